import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { RequestDecisions } from '../../../../../lib/protocol';
import { jsonInput } from './shared';

/** How Accept and Can Accept decide each item: automatically, or as the workflow says (JSON). */
export const decisionFields: INodeProperties[] = [
  {
    displayName: 'Decide',
    name: 'decideMode',
    type: 'options',
    noDataExpression: true,
    default: 'automatic',
    options: [
      {
        name: 'Automatically',
        value: 'automatic',
        description:
          'Agree to consents, answer with your newest own attribute of the asked type, take proposed and given attributes; reject optional items that cannot be answered so',
      },
      { name: 'Per Item (JSON)', value: 'json', description: 'One decision per item of the Request, as the Connector takes them' },
    ],
  },
  {
    displayName: 'Decisions (JSON)',
    name: 'decisions',
    type: 'json',
    default: '[\n  { "accept": true },\n  { "accept": true, "existingAttributeId": "ATT…" },\n  { "accept": false }\n]',
    description:
      'One per item, in order; a group as {"items":[…]}. Fields: accept; existingAttributeId, newAttribute or value (asked attributes); attributeId or attribute (proposed ones); response (form fields); deletionDate; code and message (rejected items).',
    displayOptions: { show: { decideMode: ['json'] } },
  },
];

export function decisionsOf(ctx: IExecuteFunctions, i: number): RequestDecisions | undefined {
  if (ctx.getNodeParameter('decideMode', i) !== 'json') return undefined;
  const decisions = jsonInput(ctx, 'decisions', i, 'Decisions (JSON)', '[{"accept":true},{"accept":false}]');
  if (!Array.isArray(decisions)) {
    throw new NodeOperationError(ctx.getNode(), 'Decisions (JSON) must be a list', { itemIndex: i, description: 'One decision per item of the Request, e.g. [{"accept":true},{"accept":false}]' });
  }
  return decisions as RequestDecisions;
}
