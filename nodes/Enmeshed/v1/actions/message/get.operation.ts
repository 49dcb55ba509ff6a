import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { getMessage, type Participant } from '../../../../../lib/protocol';
import { messageToJson, simplifyMessage } from '../../../../shared/output';
import { messageIdField, simplifyField } from '../../helpers/fields';
import { item, requireId } from '../../helpers/utils';

const properties: INodeProperties[] = [messageIdField, simplifyField];

export const description = updateDisplayOptions({ show: { resource: ['message'], operation: ['get'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const message = await getMessage(participant, requireId(this, 'messageId', i, 'MSG', 'Message ID'));
  const json: IDataObject = this.getNodeParameter('simplify', i, true) ? simplifyMessage(message) : messageToJson(message);
  return [item(json, i)];
}
