import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { Participant } from '../../lib/protocol';
import { toNodeError } from '../shared/errors';
import { participantFor } from '../shared/session';

/** One operation of one node version: an item in, its output items out. */
export type Operation = (this: IExecuteFunctions, i: number, participant: Participant) => Promise<INodeExecutionData[]>;

/**
 * What every version's router does once it found the operation: open the credential's participant,
 * run every item separately, and honour Continue On Fail. `execute` is undefined for a resource +
 * operation the version does not offer (an edited workflow file).
 */
export async function runOperation(ctx: IExecuteFunctions, execute: Operation | undefined): Promise<INodeExecutionData[][]> {
  const items = ctx.getInputData();
  if (!execute) {
    const resource = ctx.getNodeParameter('resource', 0) as string;
    const operation = ctx.getNodeParameter('operation', 0) as string;
    throw new NodeOperationError(ctx.getNode(), `The operation "${operation}" of "${resource}" is not supported`);
  }
  const participant = await participantFor(ctx).catch((error: unknown) => {
    throw toNodeError(ctx.getNode(), error);
  });
  const out: INodeExecutionData[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      out.push(...(await execute.call(ctx, i, participant)));
    } catch (error) {
      const nodeError = toNodeError(ctx.getNode(), error, i);
      if (!ctx.continueOnFail()) throw nodeError;
      out.push({ json: { error: nodeError.message, description: nodeError.description ?? undefined }, pairedItem: { item: i } });
    }
  }
  return [out];
}
