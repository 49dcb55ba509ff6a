/**
 * Runs in a fresh process (a new n8n worker holding one organisation's credential): the steps of the
 * relationship benchmark, each counted by a pass-through proxy in front of the organisation's client
 * (requests, response bytes, time inside the Platform), timed (wall time, and the CPU time of this
 * process: our own work), and with the peak resident set during the step. Peers act directly on the Platform, uncounted. Prints one JSON line.
 *
 *   relationships-probe.ts   (input: RELATIONSHIP_PROBE, the JSON of ProbeInput — it holds credentials)
 */
import type { IDataObject, IExecuteFunctions, ILoadOptionsFunctions, INode } from 'n8n-workflow';
import {
  acceptRelationship,
  buildMail,
  changeRelationship,
  createIdentity,
  getMessage,
  loadTemplate,
  openParticipant,
  openRegistry,
  requestRelationship,
  sendMessage,
  type ParticipantCredential,
} from '../lib/protocol';
import { execute as getManyRelationships } from '../nodes/Enmeshed/v1/actions/relationship/getMany.operation';
import { searchPeers, searchRelationships } from '../nodes/Enmeshed/v1/methods/listSearch';
import { poll, seed, type PollOptions } from '../nodes/EnmeshedTrigger/poller';
import { startCountingProxy, type Counts } from './counting-proxy';
import { peakRss, resetPeak } from './peak-rss';
import { gc, now } from './setup';

export interface ProbeInput {
  /** Number of relationships of the organisation. */
  n: number;
  org: ParticipantCredential;
  /** Related to the organisation: P1…P4 at least. */
  peers: ParticipantCredential[];
  templateReference: string;
}

export interface StepCost {
  name: string;
  /** Whether the step is one action (O(1) is the target), rather than the open. */
  perAction: boolean;
  requests: number;
  responseBytes: number;
  ms: number;
  platformMs: number;
  /** CPU time of this process during the step (user + system): our own work, whatever the load and the Platform. */
  cpuMs: number;
  /** Resident set before the step and its peak during it (bytes). */
  rssBefore: number;
  peakRss: number;
  routes: Record<string, number>;
}

export interface ProbeOutput {
  n: number;
  steps: StepCost[];
  /** The first read of the datawallet: objects of ours, their payload bytes, and the heap the index then holds. */
  datawallet: { modifications: number; payloadBytes: number; heapBytes: number };
  /** The trigger's static data after the poll (JSON bytes), and of its relationship part. */
  staticDataBytes: number;
  relationshipCursorBytes: number;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.env.RELATIONSHIP_PROBE ?? '{}') as ProbeInput;
  const direct = input.org.platformUrl;
  const proxy = await startCountingProxy(direct);
  const credential = { ...input.org, platformUrl: proxy.baseUrl };
  const steps: StepCost[] = [];

  /** Runs `fn` `runs` times; counts of the first run, the best time (the machine's load only ever adds). */
  async function step(name: string, perAction: boolean, fn: () => Promise<unknown>, runs = 1): Promise<void> {
    const samples: { counts: Counts; ms: number; cpuMs: number; rssBefore: number; peak: number }[] = [];
    for (let i = 0; i < runs; i++) {
      gc();
      proxy.reset();
      const rssBefore = process.memoryUsage().rss;
      const reset = resetPeak();
      const cpu = process.cpuUsage();
      const t = now();
      await fn();
      const ms = now() - t;
      const used = process.cpuUsage(cpu);
      samples.push({ counts: proxy.counts(), ms, cpuMs: (used.user + used.system) / 1000, rssBefore, peak: peakRss(reset) });
    }
    const [first] = samples;
    steps.push({
      name,
      perAction,
      requests: first.counts.requests,
      responseBytes: first.counts.responseBytes,
      ms: Math.min(...samples.map((s) => s.ms)),
      platformMs: Math.min(...samples.map((s) => s.counts.platformMs)),
      cpuMs: Math.min(...samples.map((s) => s.cpuMs)),
      rssBefore: first.rssBefore,
      peakRss: Math.max(...samples.map((s) => s.peak)),
      routes: Object.fromEntries(Object.entries(first.counts.byRoute).map(([route, c]) => [route, c.requests])),
    });
  }

  const peers = await Promise.all(input.peers.slice(0, 4).map((c) => openParticipant(c, { shared: false })));
  const [p1, p2, p3, p4] = peers;
  const mail = (to: string, subject: string) => ({ recipients: [to], content: buildMail({ to: [to], subject, body: `${subject} body` }) });
  const newcomerRequest = async (): Promise<string> => {
    const { credential: c } = await createIdentity({ platformUrl: direct, clientId: 'test', clientSecret: 'test' });
    const newcomer = await openParticipant(c, { shared: false });
    return (await requestRelationship(newcomer, await loadTemplate(newcomer, input.templateReference), { '@type': 'ArbitraryRelationshipCreationContent', value: 'new' })).id;
  };

  // The participant the nodes below use too (one per credential and process, as in n8n).
  const org = await openParticipant(credential);
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  await step('open: read the datawallet', false, () => openRegistry(org));
  gc();
  const datawallet = {
    modifications: org.store.stats.modificationsRead,
    payloadBytes: org.store.stats.payloadBytesRead,
    heapBytes: Math.max(0, process.memoryUsage().heapUsed - heapBefore),
  };

  await step('first send after open', true, () => sendMessage(org, mail(p1.address, 'first')));
  await step('warm send, same peer', true, () => sendMessage(org, mail(p1.address, 'again')), 5);
  await step('warm send, another peer', true, () => sendMessage(org, mail(p2.address, 'other peer')));
  const received = await sendMessage(p3, mail(org.address, 'to the organisation'));
  await step('open a received message', true, () => getMessage(org, received.id));

  const options: PollOptions = { events: ['messageReceived', 'relationshipRequestReceived', 'relationshipStatusChanged'] };
  const state = await seed(org, options);
  await sendMessage(p4, mail(org.address, 'poll me'));
  const requested = await newcomerRequest();
  let cursor = '';
  await step('trigger poll: 1 new message + 1 request', true, async () => {
    const polled = await poll(org, state, options);
    if (polled.events.length !== 2) throw new Error(`trigger poll: expected 2 events, got ${JSON.stringify(polled.events.map((e) => e.event))}`);
    cursor = JSON.stringify(polled.state);
  });
  await step('accept a request', true, () => acceptRelationship(org, requested));
  const unwanted = await newcomerRequest();
  await step('reject a request', true, () => changeRelationship(org, unwanted, 'reject'));

  // What the editor and an execution hand the node's methods: the credential and the node.
  const node = { id: 'bench', name: 'Enmeshed', type: 'n8n-nodes-enmeshed.enmeshed', typeVersion: 1, position: [0, 0], parameters: {} } as INode;
  const picker = { getCredentials: async () => credential, getNode: () => node } as unknown as ILoadOptionsFunctions;
  await step('"To" picker, first page', true, () => searchPeers.call(picker), 5);
  await step('relationship picker, search', true, () => searchRelationships.call(picker, p1.address), 5);
  const parameters: Record<string, unknown> = { returnAll: false, limit: 10, status: [] };
  const execution = { getNode: () => node, getNodeParameter: (name: string, _i: number, fallback?: unknown) => parameters[name] ?? fallback } as unknown as IExecuteFunctions;
  await step(
    'Relationship Get Many, Limit 10',
    true,
    async () => {
      const items = await getManyRelationships.call(execution, 0, org);
      if (items.length !== 10) throw new Error(`Get Many: ${items.length} items`);
    },
    3,
  );

  const output: ProbeOutput = {
    n: input.n,
    steps,
    datawallet,
    staticDataBytes: Buffer.byteLength(cursor),
    relationshipCursorBytes: Buffer.byteLength(JSON.stringify((JSON.parse(cursor) as IDataObject).relationships)),
  };
  await proxy.close();
  process.stdout.write(`${JSON.stringify(output)}\n`, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
