/**
 * examples/*.json, fast (no n8n): our nodes' parameters and values exist in the current node
 * descriptions, the credentials are the ones `npm start` imports, and the Code nodes run and do
 * what the next nodes expect. The full check against a real n8n (every node type, n8n's own
 * validation, import, execution) is test/e2e/examples.e2e.test.ts.
 */
import type { INode, INodeProperties, INodeTypeDescription } from 'n8n-workflow';
import { Enmeshed } from '../../nodes/Enmeshed/Enmeshed.node';
import { EnmeshedTrigger } from '../../nodes/EnmeshedTrigger/EnmeshedTrigger.node';
import { CREDENTIALS, loadExamples } from '../../scripts/lib/setup';
import { checkWorkflow, type DescribeNode, type WorkflowJson } from '../../scripts/lib/workflow-check';

const examples = loadExamples();
const action = new Enmeshed().nodeVersions[1].description;
const actionV2 = new Enmeshed().nodeVersions[2].description;
const trigger = new EnmeshedTrigger().description;
// n8n adds these two parameters to every node it offers as an AI tool (<name>Tool).
const toolParameters: INodeProperties[] = [
  { displayName: 'Tool Description', name: 'descriptionType', type: 'options', default: 'auto', options: [{ name: 'Set Automatically', value: 'auto' }, { name: 'Set Manually', value: 'manual' }] },
  { displayName: 'Description', name: 'toolDescription', type: 'string', default: '', displayOptions: { show: { descriptionType: ['manual'] } } },
];
const tool: INodeTypeDescription = { ...action, name: 'enmeshedTool', properties: [...toolParameters, ...action.properties] };

const describe: DescribeNode = (type, version) => {
  if (version === 2 && type === 'n8n-nodes-enmeshed.enmeshed') return actionV2;
  if (version !== 1) return undefined;
  return { 'n8n-nodes-enmeshed.enmeshed': action, 'n8n-nodes-enmeshed.enmeshedTool': tool, 'n8n-nodes-enmeshed.enmeshedTrigger': trigger }[type];
};
const ours = (type: string) => type.startsWith('n8n-nodes-enmeshed.');
const check = (workflow: WorkflowJson) => checkWorkflow(workflow, describe, { only: ours, extraParameters: (d) => (d.polling ? ['pollTimes'] : []) });
const nodesOf = (id: string): INode[] => (examples.find((e) => e.id === id)!.workflow as unknown as WorkflowJson).nodes;
const code = (id: string, name: string): string => nodesOf(id).find((n) => n.name === name)!.parameters.jsCode as string;

test('there are the five examples, named and numbered alike', () => {
  expect(examples.map((e) => e.id)).toEqual(['enmeshedExample1', 'enmeshedExample2', 'enmeshedExample3', 'enmeshedExample4', 'enmeshedExample5']);
  for (const [i, e] of examples.entries()) {
    expect(e.file.startsWith(`0${i + 1}-`)).toBe(true);
    expect(e.name.startsWith(`Example ${i + 1} · `)).toBe(true);
  }
});

test.each(examples.map((e) => [e.file, e] as const))('%s uses only existing parameters and values of our nodes', (_file, example) => {
  expect(check(example.workflow as unknown as WorkflowJson)).toEqual([]);
  expect((example.workflow as unknown as WorkflowJson).nodes.filter((n) => ours(n.type)).length).toBeGreaterThan(0);
});

test.each(examples.map((e) => [e.file, e] as const))('%s: credentials are the ones npm start imports, triggers poll every minute', (_file, example) => {
  const known = Object.values(CREDENTIALS).map((c) => `${c.id} ${c.name}`);
  for (const node of (example.workflow as unknown as WorkflowJson).nodes) {
    for (const ref of Object.values(node.credentials ?? {})) expect(known).toContain(`${ref.id} ${ref.name}`);
    if (ours(node.type)) expect(node.credentials?.enmeshedApi).toBeDefined();
    if (node.type === 'n8n-nodes-enmeshed.enmeshedTrigger') expect(node.parameters.pollTimes).toEqual({ item: [{ mode: 'everyMinute' }] });
  }
});

test('the check finds unknown parameters, hidden ones, wrong option values and bad connections', () => {
  const broken = JSON.parse(JSON.stringify(examples[0].workflow)) as WorkflowJson;
  const reply = broken.nodes.find((n) => n.name === 'Confirm receipt')!;
  reply.parameters.recipient = 'x';
  reply.parameters.options = { bodyFormat: 'Html', colour: 'red' };
  reply.parameters.jsonContent = '{}';
  const newMail = broken.nodes.find((n) => n.name === 'New Mail')!;
  newMail.parameters.events = ['messageReceived', 'mailReceived'];
  newMail.typeVersion = 2;
  broken.connections['Save PDF'] = { main: [[{ node: 'Reply', type: 'main', index: 0 }]] };
  const problems = check(broken).join('\n');
  expect(problems).toContain('unknown parameter "recipient"');
  expect(problems).toContain('parameter "jsonContent" is set but hidden');
  expect(problems).toContain('options.bodyFormat = "Html" is not one of');
  expect(problems).toContain('options.colour is not an option');
  expect(problems).toContain('unknown node type n8n-nodes-enmeshed.enmeshedTrigger version 2');
  expect(problems).toContain('connects to a node that does not exist: "Reply"');
  newMail.typeVersion = 1;
  expect(check(broken).join('\n')).toContain('contains "mailReceived"');
});

test('example 1: one item per attachment, with a file name that stays in its folder', () => {
  const run = new Function('$input', code('enmeshedExample1', 'One item per attachment')) as (input: unknown) => { json: Record<string, unknown>; binary: Record<string, unknown> }[];
  const items = [
    {
      json: {
        id: 'MSGaaaaaaaaaaaaaaaaa',
        from: 'did:e:localhost:dids:0123456789abcdef012345',
        subject: 'Results',
        attachmentFiles: [
          { property: 'attachment_0', filename: 'report.pdf', mimetype: 'application/pdf', size: 3 },
          { property: 'attachment_1', filename: '../../.n8n/config', mimetype: 'image/png', size: 4 },
        ],
      },
      binary: { attachment_0: { id: 'a' }, attachment_1: { id: 'b' } },
    },
    { json: { id: 'MSGbbbbbbbbbbbbbbbbb', from: 'did:e:x', subject: 'No files' } },
  ];
  const out = run({ all: () => items });
  expect(out).toHaveLength(2);
  expect(out[0]).toEqual({
    json: expect.objectContaining({ messageId: 'MSGaaaaaaaaaaaaaaaaa', filename: 'report.pdf', mimetype: 'application/pdf', savedName: 'MSGaaaaaaaaaaaaaaaaa-report.pdf' }),
    binary: { data: { id: 'a' } },
  });
  expect(out[1].json.savedName).toBe('MSGaaaaaaaaaaaaaaaaa-n8n_config');
  expect(out[1].binary).toEqual({ data: { id: 'b' } });
});

test('example 2: the Code node makes a well-formed PDF per relationship', () => {
  const run = new Function('$input', '$now', code('enmeshedExample2', 'Make PDF report')) as (input: unknown, now: unknown) => {
    json: Record<string, unknown>;
    binary: { report: { data: string; mimeType: string; fileName: string } };
  }[];
  const relationships = [
    { json: { id: 'RELaaaaaaaaaaaaaaaaa', peer: 'did:e:localhost:dids:0123456789abcdef012345', createdAt: '2026-01-01T00:00:00.000Z' } },
    { json: { id: 'RELbbbbbbbbbbbbbbbbb', peer: 'did:e:localhost:dids:abcdef0123456789abcdef', createdAt: '2026-01-02T00:00:00.000Z' } },
  ];
  const out = run({ all: () => relationships }, { toFormat: () => '2026-02-03' });
  expect(out.map((o) => o.json.peer)).toEqual(relationships.map((r) => r.json.peer));
  for (const item of out) {
    expect(item.binary.report).toMatchObject({ mimeType: 'application/pdf', fileName: 'report-2026-02-03.pdf' });
    const pdf = Buffer.from(item.binary.report.data, 'base64').toString('latin1');
    expect(pdf.startsWith('%PDF-1.4\n')).toBe(true);
    expect(pdf.endsWith('%%EOF\n')).toBe(true);
    // The cross-reference table must point at each object, and startxref at the table.
    const startxref = Number(/startxref\n(\d+)\n/.exec(pdf)![1]);
    expect(pdf.slice(startxref, startxref + 5)).toBe('xref\n');
    const offsets = [...pdf.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gm)].map((m) => Number(m[1]));
    expect(offsets).toHaveLength(5);
    offsets.forEach((offset, i) => expect(pdf.slice(offset).startsWith(`${i + 1} 0 obj\n`)).toBe(true));
    const stream = /<< \/Length (\d+) >>\nstream\n([\s\S]*?)\nendstream/.exec(pdf)!;
    expect(stream[2].length).toBe(Number(stream[1]));
    expect(stream[2]).toContain(`(For: ${item.json.peer as string})`);
  }
});
