import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { getMessage, type Participant } from '../../../../../lib/protocol';
import { attachmentsToBinary } from '../../../../shared/binary';
import { simplifyMessage } from '../../../../shared/output';
import { messageIdField } from '../../helpers/fields';
import { item, requireId } from '../../helpers/utils';

const properties: INodeProperties[] = [
  messageIdField,
  {
    displayName: 'Put Output File in Field',
    name: 'binaryPrefix',
    type: 'string',
    default: 'attachment_',
    description: 'Prefix of the binary properties: attachments land in attachment_0, attachment_1, …',
  },
];

export const description = updateDisplayOptions({ show: { resource: ['message'], operation: ['downloadAttachments'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const message = await getMessage(participant, requireId(this, 'messageId', i, 'MSG', 'Message ID'));
  const prefix = (this.getNodeParameter('binaryPrefix', i, 'attachment_') as string) || 'attachment_';
  const { binary, files } = await attachmentsToBinary(this, participant, message.attachments, prefix);
  return [item({ ...simplifyMessage(message), attachments: files }, i, binary)];
}
