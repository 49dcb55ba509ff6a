import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { listOwnFiles, type Participant } from '../../../../../lib/protocol';
import { fileToJson } from '../../../../shared/output';
import { limitField, returnAllField } from '../../helpers/fields';
import { item } from '../../helpers/utils';

const properties: INodeProperties[] = [returnAllField, limitField];

export const description = updateDisplayOptions({ show: { resource: ['file'], operation: ['getMany'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const returnAll = this.getNodeParameter('returnAll', i) as boolean;
  const limit = returnAll ? Infinity : (this.getNodeParameter('limit', i) as number);
  const { files, unreadable } = await listOwnFiles(participant);
  const out = [...files].reverse().map((f) => item(fileToJson(f, participant.address), i));
  // Files this credential cannot read are listed with the reason, not dropped.
  for (const u of unreadable) out.push(item({ id: u.id, error: u.reason }, i));
  return out.slice(0, limit);
}
