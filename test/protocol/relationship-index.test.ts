/**
 * The relationship index (lib/state/relationship-entries.ts, lib/protocol/relationships/): one bound
 * datawallet object per relationship, looked up in memory, and every action O(1) in the number of
 * relationships.
 *
 *  - the same actions of an organisation with 10 and with 300 relationships make exactly the same
 *    requests (counted at a proxy in front of the local Platform); only the first read of the
 *    datawallet grows (one object per relationship);
 *  - a warm send (keys and counter block in memory) is one request: the POST /Messages — through lib
 *    and through the node;
 *  - fail closed: a relationship object swapped, moved, corrupted, deleted, replaced by an unbound
 *    one or put into another collection by the Platform stops a send with
 *    error.client.datawalletEntryInvalid, and nothing is posted;
 *  - an identity of an earlier version (unbound objects, n8n.counters, n8n.relationshipEvents) is
 *    upgraded on open: counters continue above every old block, old blocks are poisoned, and an
 *    unbound relationship object written after the upgrade is refused.
 */
import type { INodeParameters } from 'n8n-workflow';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { DatawalletEntryError } from '../../lib/state/datawallet';
import { LAYOUT, POISONED_COUNTER, entryChange } from '../../lib/state/relationship-entries';
import { PlatformCodes } from '../../lib/backbone';
import {
  acceptRelationship,
  buildMail,
  changeRelationship,
  createIdentity,
  createTemplate,
  getMessage,
  loadTemplate,
  openParticipant,
  openRegistry,
  requestRelationship,
  sendMessage,
  syncRegistry,
  type Participant,
  type ParticipantCredential,
} from '../../lib/protocol';
import { poll, seed, type PollOptions } from '../../nodes/EnmeshedTrigger/poller';
import { searchPeers, searchRelationships } from '../../nodes/Enmeshed/v1/methods/listSearch';
import { inOneDay, newParticipant } from '../helpers/participants';
import { startProxy, type TestProxy } from '../helpers/proxy';
import { relate } from '../helpers/relate';
import { loadOptionsContext } from '../nodes/context';
import { runNode } from '../nodes/helpers';

jest.setTimeout(240_000);

type Peer = Participant & { credential: ParticipantCredential };

let platform: PlatformHandle;
let proxy: TestProxy;

beforeAll(async () => {
  platform = await startPlatform({});
  proxy = await startProxy(platform.baseUrl);
});
afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

/** The requests `action` makes through the proxy, as "METHOD /path" with ids replaced by {id}. */
async function requestsOf(action: () => Promise<unknown>): Promise<string[]> {
  const from = proxy.log.length;
  await action();
  return proxy.log.slice(from).map((e) => `${e.method} ${e.path.replace(/[A-Z]{3}[A-Za-z0-9]{17}/g, '{id}')}`);
}

/** Requests after log position `from` that change something on the Platform (the device login aside). */
const changesSince = (from: number) => proxy.log.slice(from).filter((e) => e.method !== 'GET' && e.path.startsWith('/api/'));

/** `fn` over `items`, `width` at a time. */
async function inParallel<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

const arbitrary = { '@type': 'ArbitraryRelationshipTemplateContent', value: 'org' };
const answer = { '@type': 'ArbitraryRelationshipCreationContent', value: 'customer' };
const mail = (to: string, subject: string) => buildMail({ to: [to], subject, body: `${subject} body` });
/** The counter a message's key wrap for its first recipient used. */
const counterOf = (encryptedKey: string): number => (JSON.parse(Buffer.from(encryptedKey, 'base64').toString('utf8')) as { cnt: number }).cnt;

describe('every action costs the same with 10 and with 300 relationships', () => {
  interface Org {
    org: Peer;
    templateReference: string;
  }

  /** An organisation whose template every requestor used; all requests accepted. */
  async function organisation(requestors: Peer[]): Promise<Org> {
    const org = await newParticipant(platform.baseUrl);
    const template = await createTemplate(org, { content: arbitrary, expiresAt: inOneDay() });
    const ids = await inParallel(requestors, 8, async (r) => (await requestRelationship(r, await loadTemplate(r, template.truncatedReference), answer)).id);
    await syncRegistry(org);
    for (const id of ids) await acceptRelationship(org, id);
    return { org, templateReference: template.truncatedReference };
  }

  let requestors: Peer[];
  const orgs = new Map<number, Org>();

  beforeAll(async () => {
    requestors = await inParallel([...Array(300).keys()], 8, () => newParticipant(platform.baseUrl));
    orgs.set(10, await organisation(requestors.slice(0, 10)));
    orgs.set(300, await organisation(requestors));
  });

  /** The requests of each step for the organisation with `n` relationships, read through the proxy by a fresh process. */
  async function steps(n: number): Promise<{ steps: Record<string, string[]>; modificationsRead: number }> {
    const { org, templateReference } = orgs.get(n)!;
    const [p1, p2, p3, p4] = requestors;
    const credential = { ...org.credential, platformUrl: proxy.baseUrl };
    const m = await openParticipant(credential, { shared: false });
    const out: Record<string, string[]> = {};
    out.open = await requestsOf(() => openRegistry(m));
    const modificationsRead = m.store.stats.modificationsRead;
    out['send (cold keys and counters)'] = await requestsOf(() => sendMessage(m, { recipients: [p1.address], content: mail(p1.address, 'first') }));
    out['warm send, same peer'] = await requestsOf(() => sendMessage(m, { recipients: [p1.address], content: mail(p1.address, 'again') }));
    out['send to another peer'] = await requestsOf(() => sendMessage(m, { recipients: [p2.address], content: mail(p2.address, 'other') }));
    const received = await sendMessage(p3, { recipients: [org.address], content: mail(org.address, 'to the org') });
    out['open a received message'] = await requestsOf(() => getMessage(m, received.id));

    const options: PollOptions = { events: ['messageReceived', 'relationshipRequestReceived', 'relationshipStatusChanged'] };
    const state = await seed(m, options);
    await sendMessage(p4, { recipients: [org.address], content: mail(org.address, 'poll me') });
    const newcomer = await newParticipant(platform.baseUrl);
    const request = await requestRelationship(newcomer, await loadTemplate(newcomer, templateReference), answer);
    let events: string[] = [];
    out['trigger poll: 1 message + 1 request'] = await requestsOf(async () => {
      const polled = await poll(m, state, options);
      events = polled.events.map((e) => e.event);
      // the relationship part of the cursor is one number, whatever N
      expect(Object.keys(polled.state.relationships!)).toEqual(['index']);
    });
    expect(events).toEqual(['messageReceived', 'relationshipRequestReceived']);
    out.accept = await requestsOf(() => acceptRelationship(m, request.id));
    const rejected = await newParticipant(platform.baseUrl);
    const unwanted = await requestRelationship(rejected, await loadTemplate(rejected, templateReference), answer);
    out.reject = await requestsOf(() => changeRelationship(m, unwanted.id, 'reject'));

    // The node's own participant for this credential: its first call opens it; the next ones are measured.
    const picker = loadOptionsContext({ credentials: credential });
    await searchRelationships.call(picker);
    let page: string[] = [];
    out['relationship picker, search'] = await requestsOf(async () => {
      page = (await searchRelationships.call(picker, p1.address)).results.map((r) => String(r.value));
    });
    expect(page).toHaveLength(1);
    const parameters: INodeParameters = { resource: 'relationship', operation: 'getMany', limit: 5 };
    let listed = 0;
    out['Get Many, Limit 5'] = await requestsOf(async () => {
      listed = (await runNode({ credentials: credential, parameters })).length;
    });
    expect(listed).toBe(5);
    return { steps: out, modificationsRead };
  }

  test('the same requests for every action; only the first datawallet read grows, by one object per relationship', async () => {
    const small = await steps(10);
    const large = await steps(300);
    for (const [name, requests] of Object.entries(small.steps)) {
      if (name === 'open') continue;
      expect({ name, requests: large.steps[name] }).toEqual({ name, requests });
    }
    expect(small.steps['warm send, same peer']).toEqual(['POST /api/v2/Messages']);
    // one object per relationship, plus the layout marker and the few our own steps wrote before
    expect(small.modificationsRead).toBeLessThanOrEqual(10 + 2);
    expect(large.modificationsRead).toBeLessThanOrEqual(300 + 2);
    expect(large.modificationsRead).toBeGreaterThanOrEqual(300);
    process.stderr.write(
      `[index] requests per step, N=10 and N=300: ${Object.entries(small.steps)
        .map(([name, r]) => `${name} ${r.length}/${large.steps[name].length}`)
        .join('; ')}; datawallet objects read at open ${small.modificationsRead}/${large.modificationsRead}\n` +
        `[index] the trigger poll: ${large.steps['trigger poll: 1 message + 1 request'].join(', ')}\n` +
        `[index] the first send: ${large.steps['send (cold keys and counters)'].join(', ')}\n`,
    );
  });

  test('the pickers page through the index: 50 at a time with a pagination token, each relationship once; a search narrows it', async () => {
    const { org } = orgs.get(300)!;
    const picker = loadOptionsContext({ credentials: { ...org.credential } });
    const peers: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await searchPeers.call(picker, undefined, token);
      expect(page.results.length).toBeLessThanOrEqual(50);
      peers.push(...page.results.map((r) => String(r.value)));
      token = page.paginationToken;
      pages++;
    } while (token);
    expect(pages).toBeGreaterThanOrEqual(6);
    expect(new Set(peers).size).toBe(peers.length);
    expect(peers).toEqual(expect.arrayContaining(requestors.map((r) => r.address))); // and the newcomer accepted above
    const found = await searchPeers.call(picker, requestors[123].address.slice(-10).toUpperCase());
    expect(found).toEqual({ results: [{ name: expect.stringContaining(requestors[123].address), value: requestors[123].address }], paginationToken: undefined });
  });
});

describe('a warm send is one request: the POST /Messages', () => {
  test('lib: keys and counter block in memory', async () => {
    const a = await newParticipant(platform.baseUrl);
    const b = await newParticipant(platform.baseUrl);
    await relate(a, b);
    const sender = await openParticipant({ ...a.credential, platformUrl: proxy.baseUrl }, { shared: false });
    await sendMessage(sender, { recipients: [b.address], content: mail(b.address, 'warm up') });
    for (let i = 0; i < 3; i++) {
      expect(await requestsOf(() => sendMessage(sender, { recipients: [b.address], content: mail(b.address, `warm ${i}`) }))).toEqual(['POST /api/v2/Messages']);
    }
  });

  test('the node: Message → Send of a Mail, warm', async () => {
    const a = await newParticipant(platform.baseUrl);
    const b = await newParticipant(platform.baseUrl);
    await relate(b, a);
    const credentials = { ...a.credential, platformUrl: proxy.baseUrl };
    const parameters: INodeParameters = { resource: 'message', operation: 'send', to: { mode: 'address', value: b.address }, subject: 's', body: 'b' };
    await runNode({ credentials, parameters });
    expect(await requestsOf(() => runNode({ credentials, parameters }))).toEqual(['POST /api/v2/Messages']);
  });
});

describe('fail closed: a relationship object the Platform changed stops the send', () => {
  let org: Peer;
  let x: Peer;
  let y: Peer;
  let relX: string;
  let relY: string;

  beforeAll(async () => {
    org = await newParticipant(platform.baseUrl);
    x = await newParticipant(platform.baseUrl);
    y = await newParticipant(platform.baseUrl);
    relX = await relate(org, x); // org is the templator
    relY = await relate(y, org); // org is the requestor
    for (const peer of [x, y]) await sendMessage(org, { recipients: [peer.address], content: mail(peer.address, 'counters in use') });
  });
  afterEach(() => proxy.clear());

  type Modification = { objectIdentifier: string; collection: string; type: string; encryptedPayload: string | null };
  const objectOf = (id: string) => `n8n.relationships/${id}`;

  /** Serves every datawallet read with `change` applied to its modifications. */
  function tamper(change: (modifications: Modification[]) => void): void {
    proxy.rewriteJson('GET', /^\/api\/v2\/Datawallet\/Modifications$/, (json: { result: Modification[] }) => change(json.result));
  }

  const variants: [string, (mods: Modification[]) => void][] = [
    [
      'two entries swapped',
      (mods) => {
        const a = mods.find((m) => m.objectIdentifier === objectOf(relX))!;
        const b = mods.find((m) => m.objectIdentifier === objectOf(relY))!;
        [a.encryptedPayload, b.encryptedPayload] = [b.encryptedPayload, a.encryptedPayload];
      },
    ],
    ['an entry moved to another id', (mods) => void (mods.find((m) => m.objectIdentifier === objectOf(relX))!.objectIdentifier = objectOf('RELmovedmovedmovedmo'))],
    ['an entry moved to another collection', (mods) => void (mods.find((m) => m.objectIdentifier === objectOf(relX))!.collection = 'n8n.counters')],
    [
      'an entry corrupted',
      (mods) => {
        const m = mods.find((mod) => mod.objectIdentifier === objectOf(relX))!;
        const json = JSON.parse(Buffer.from(m.encryptedPayload!, 'base64').toString('utf8')) as { cph: string };
        json.cph = `${json.cph.slice(0, 10)}${json.cph[10] === 'A' ? 'B' : 'A'}${json.cph.slice(11)}`;
        m.encryptedPayload = Buffer.from(JSON.stringify(json)).toString('base64');
      },
    ],
    ['an entry turned into a Delete', (mods) => void (mods.find((m) => m.objectIdentifier === objectOf(relX))!.type = 'Delete')],
    [
      'an entry replaced by an unbound one (as an earlier version wrote them)',
      (mods) => {
        const m = mods.find((mod) => mod.objectIdentifier === objectOf(relX))!;
        const { value } = entryChange(org.registry.get(relX)!, 'keep');
        m.encryptedPayload = org.store.encode({ collection: 'n8n.relationships', id: relX, value, unbound: true }).encryptedPayload!;
      },
    ],
  ];

  test.each(variants)('%s: DatawalletEntryError, and no POST at all', async (_name, change) => {
    tamper(change);
    const fresh = await openParticipant({ ...org.credential, platformUrl: proxy.baseUrl }, { shared: false });
    const from = proxy.log.length;
    const error = await sendMessage(fresh, { recipients: [x.address], content: mail(x.address, 'must not go out') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatawalletEntryError);
    expect(error).toMatchObject({ code: PlatformCodes.datawalletEntryInvalid });
    expect((error as Error).message).toContain('n8n.relationships/');
    expect(changesSince(from)).toEqual([]);
  });

  test('an invalid entry also stops a change of that relationship before it is made', async () => {
    tamper((mods) => void (mods.find((m) => m.objectIdentifier === objectOf(relX))!.type = 'Create'));
    const fresh = await openParticipant({ ...org.credential, platformUrl: proxy.baseUrl }, { shared: false });
    const from = proxy.log.length;
    await expect(changeRelationship(fresh, relX, 'terminate')).rejects.toBeInstanceOf(DatawalletEntryError);
    expect(changesSince(from)).toEqual([]);
    proxy.clear();
    const clean = await openParticipant(org.credential, { shared: false });
    await openRegistry(clean);
    expect(clean.registry.get(relX)?.status).toBe('Active');
  });
});

describe('an identity of an earlier version', () => {
  test('a trigger cursor of an earlier version (a status per relationship): what changed since is emitted once, then one number', async () => {
    const org = await newParticipant(platform.baseUrl);
    const peer = await newParticipant(platform.baseUrl);
    const template = await createTemplate(org, { content: arbitrary, expiresAt: inOneDay() });
    const request = await requestRelationship(peer, await loadTemplate(peer, template.truncatedReference), answer);
    await syncRegistry(org);
    const options: PollOptions = { events: ['relationshipRequestReceived', 'relationshipStatusChanged'] };
    // Saved by an earlier version while the request was Pending; then the peer revoked it.
    const earlier = { v: 1 as const, relationships: { events: { [request.id]: 'SYIaaaaaaaaaaaaaaaaa' }, statuses: { [request.id]: 'Pending' } } };
    await changeRelationship(peer, request.id, 'revoke');
    const first = await poll(org, earlier as never, options);
    expect(first.events).toMatchObject([{ event: 'relationshipStatusChanged', relationship: { id: request.id, status: 'Revoked' }, oldStatus: 'Pending' }]);
    expect(Object.keys(first.state.relationships!)).toEqual(['index']);
    expect((await poll(org, first.state, options)).events).toEqual([]);
  });

  test('is upgraded on open: records read once, counters above every old block, old blocks poisoned; later unbound objects refused', async () => {
    const { credential } = await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' });
    const a = await openParticipant(credential, { shared: false });
    const b = await newParticipant(platform.baseUrl);
    const template = await createTemplate(a, { content: arbitrary, expiresAt: inOneDay() });
    const request = await requestRelationship(b, await loadTemplate(b, template.truncatedReference), answer);
    const gone = 'RELgonegonegonegoneg';
    // What an earlier version left: unbound objects, a counter block of 40 on this relationship and of
    // 1,000 on another one (their values may have been swapped by the Platform), and event hints.
    const legacy = [
      { collection: 'n8n.relationships' as const, id: request.id, value: { discoveredBy: 'RelationshipStatusChanged' }, unbound: true },
      { collection: 'n8n.relationships' as const, id: gone, value: { discoveredBy: 'RelationshipStatusChanged' }, unbound: true },
      { collection: 'n8n.relationshipEvents' as const, id: request.id, value: { lastEventId: 'SYIaaaaaaaaaaaaaaaaa', type: 'RelationshipStatusChanged' }, unbound: true },
      { collection: 'n8n.counters' as const, id: request.id, value: { next: 40 }, unbound: true },
      { collection: 'n8n.counters' as const, id: gone, value: { next: 1000 }, unbound: true },
    ];
    await a.client.pushDatawalletModifications(-1, legacy.map((c) => a.store.encode(c)));

    const upgrading = await openParticipant({ ...credential, platformUrl: proxy.baseUrl }, { shared: false });
    const upgrade = await requestsOf(() => openRegistry(upgrading));
    expect(upgrade.filter((r) => r === 'GET /api/v2/Relationships')).toHaveLength(1);
    expect(upgrading.registry.complete).toBe(true);
    expect(upgrading.registry.get(request.id)).toMatchObject({ peer: b.address, role: 'templator', status: 'Pending', changedIndex: -1 });
    expect(upgrading.registry.get(gone)).toBeUndefined();

    await acceptRelationship(upgrading, request.id);
    const sent = await sendMessage(upgrading, { recipients: [b.address], content: mail(b.address, 'after the upgrade') });
    expect(counterOf((await a.client.getMessage(sent.id)).recipients[0].encryptedKey)).toBeGreaterThanOrEqual(1000);

    // A fresh process: no second upgrade, and the old block of this relationship is exhausted for an old worker.
    const fresh = await openParticipant({ ...credential, platformUrl: proxy.baseUrl }, { shared: false });
    const open = await requestsOf(() => openRegistry(fresh));
    expect(open.filter((r) => r !== 'GET /api/v2/Datawallet/Modifications' && r !== 'POST /connect/token')).toEqual([]);
    expect(fresh.store.get('n8n.counters', request.id)?.value).toEqual({ next: POISONED_COUNTER });
    expect(fresh.store.get(LAYOUT.collection, LAYOUT.id)?.value).toEqual(LAYOUT.value);

    // An old worker writes an unbound relationship object after the upgrade: refused, nothing sent.
    await fresh.client.pushDatawalletModifications(fresh.store.latestIndex, [
      fresh.store.encode({ collection: 'n8n.relationships', id: request.id, value: { discoveredBy: 'RelationshipStatusChanged' }, unbound: true }),
    ]);
    const later = await openParticipant({ ...credential, platformUrl: proxy.baseUrl }, { shared: false });
    const from = proxy.log.length;
    await expect(sendMessage(later, { recipients: [b.address], content: mail(b.address, 'refused') })).rejects.toBeInstanceOf(DatawalletEntryError);
    expect(proxy.log.slice(from).filter((e) => e.method === 'POST' && e.path === '/api/v2/Messages')).toEqual([]);
  });
});
