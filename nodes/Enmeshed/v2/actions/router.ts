import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { runOperation, type Operation } from '../../operation';
import * as attribute from './attribute/Attribute.resource';
import * as file from './file/File.resource';
import * as identity from './identity/Identity.resource';
import * as message from './message/Message.resource';
import type { EnmeshedType } from './node.type';
import * as relationship from './relationship/Relationship.resource';
import * as relationshipTemplate from './relationshipTemplate/RelationshipTemplate.resource';
import * as token from './token/Token.resource';
import * as request from './request/Request.resource';

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
    case 'token':
      return token[node.operation]?.execute;
    case 'request':
      return request[node.operation]?.execute;
    case 'attribute':
      return attribute[node.operation]?.execute;
    default:
      return undefined;
  }
}

/** resource + operation → the operation module; every item separately, with Continue On Fail. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const resource = this.getNodeParameter('resource', 0) as string;
  const operation = this.getNodeParameter('operation', 0) as string;
  return runOperation(this, operationFor({ resource, operation } as EnmeshedType));
}
