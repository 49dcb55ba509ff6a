import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { startIdentityDeletion, type Participant } from '../../../../../lib/protocol';
import { item } from '../../../v1/helpers/utils';
import { deletionProcessToJson } from './deletion';

const properties: INodeProperties[] = [
  {
    displayName:
      'After the grace period the Platform deletes this identity with its relationships, messages and files, and the credential stops working. Until then Cancel Deletion undoes it.',
    name: 'notice',
    type: 'notice',
    default: '',
  },
  {
    displayName: 'Grace Period (Days)',
    name: 'gracePeriodDays',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 14,
    description: 'Days until the identity is deleted; peers are told the date',
  },
];

export const description = updateDisplayOptions({ show: { resource: ['identity'], operation: ['startDeletion'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const days = this.getNodeParameter('gracePeriodDays', i, 14) as number;
  return [item({ address: participant.address, ...deletionProcessToJson(await startIdentityDeletion(participant, days)) }, i)];
}
