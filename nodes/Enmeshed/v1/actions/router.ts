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

/**
 * The `execute` of resource + operation. Checked by the compiler against EnmeshedType: an operation
 * it lists without a module exporting `execute` does not compile. Undefined for values the node
 * description does not offer (an edited workflow file).
 */
function operationFor(node: EnmeshedType): Operation | undefined {
  switch (node.resource) {
    case 'message':
      return message[node.operation]?.execute;
    case 'file':
      return file[node.operation]?.execute;
    case 'relationshipTemplate':
      return relationshipTemplate[node.operation]?.execute;
    case 'relationship':
      return relationship[node.operation]?.execute;
    case 'identity':
      return identity[node.operation]?.execute;
    default:
      return undefined;
  }
}

/** resource + operation → the operation module; every item separately, with Continue On Fail. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const items = this.getInputData();
  const resource = this.getNodeParameter('resource', 0) as string;
  const operation = this.getNodeParameter('operation', 0) as string;
  const execute = operationFor({ resource, operation } as EnmeshedType);
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
