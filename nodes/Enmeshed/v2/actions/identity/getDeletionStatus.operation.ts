import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';
import { identityDeletionStatus, type Participant } from '../../../../../lib/protocol';
import { item } from '../../../v1/helpers/utils';
import { deletionProcessToJson } from './deletion';

const properties: INodeProperties[] = [];

export const description = updateDisplayOptions({ show: { resource: ['identity'], operation: ['getDeletionStatus'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number, participant: Participant): Promise<INodeExecutionData[]> {
  const state = await identityDeletionStatus(participant);
  return [
    item(
      {
        address: participant.address,
        status: state.status,
        toBeDeleted: state.active !== undefined,
        deletionDate: state.deletionDate,
        deletionProcess: state.active ? deletionProcessToJson(state.active) : undefined,
        deletionProcesses: state.processes.map(deletionProcessToJson),
      },
      i,
    ),
  ];
}
