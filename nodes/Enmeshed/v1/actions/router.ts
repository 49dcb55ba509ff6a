import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { Participant } from '../../../../lib/protocol';
import { participantFor } from '../../../shared/session';
import { toNodeError } from '../../../shared/errors';
import * as file from './file/File.resource';
import * as identity from './identity/Identity.resource';
import * as message from './message/Message.resource';
import type { EnmeshedType } from './node.type';
import * as relationship from './relationship/Relationship.resource';
import * as relationshipTemplate from './relationshipTemplate/RelationshipTemplate.resource';

type Operation = (this: IExecuteFunctions, i: number, participant: Participant) => Promise<INodeExecutionData[]>;

const resources = { message, file, relationshipTemplate, relationship, identity } as unknown as Record<
  string,
  Record<string, { execute?: Operation } | undefined>
>;

/** resource + operation → the operation module; every item separately, with Continue On Fail. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const items = this.getInputData();
  const resource = this.getNodeParameter('resource', 0) as EnmeshedType['resource'];
  const operation = this.getNodeParameter('operation', 0) as string;
  const execute = resources[resource]?.[operation]?.execute;
  if (!execute) {
    throw new NodeOperationError(this.getNode(), `The operation "${operation}" of "${resource}" is not supported`);
  }
  const participant = await participantFor(this).catch((error: unknown) => {
    throw toNodeError(this.getNode(), error);
  });
  const out: INodeExecutionData[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      out.push(...(await execute.call(this, i, participant)));
    } catch (error) {
      const nodeError = toNodeError(this.getNode(), error, i);
      if (!this.continueOnFail()) throw nodeError;
      out.push({ json: { error: nodeError.message, description: nodeError.description ?? undefined }, pairedItem: { item: i } });
    }
  }
  return [out];
}
