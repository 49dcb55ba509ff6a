/**
 * The fixture of the relationship benchmark: one local Platform database holding three
 * organisations with 10, 1,000 and 10,000 Active relationships, all made the real way (each
 * requestor a real identity that loaded the organisation's template and sent a request; the
 * organisation synced and accepted each one with lib/protocol, so its datawallet holds exactly what
 * a real one would). The requestors are shared: the first 10 asked all three, the first 1,000 two.
 *
 * Making it takes minutes, so it is cached on disk: `.tmp/bench-relationships/v<VERSION>/` holds the
 * Platform's `platform.sqlite` and `fixture.json` (the credentials). Bump VERSION whenever what the
 * fixture holds changes (e.g. the datawallet layout): an old cache is then simply not used. A run
 * works on a copy, so the cache stays as made.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  acceptRelationship,
  createIdentity,
  createTemplate,
  loadTemplate,
  openParticipant,
  requestRelationship,
  syncRegistry,
  type Participant,
  type ParticipantCredential,
} from '../lib/protocol';
import { startBenchPlatform, type BenchPlatform } from './platform-host';
import { now } from './setup';

/** Layout 2 of the datawallet (one bound object per relationship). */
export const FIXTURE_VERSION = 2;
/** The sizes measured; BENCH_RELATIONSHIPS=10,200 (say) for a quick try with a fixture of its own. */
export const SIZES: number[] = (process.env.BENCH_RELATIONSHIPS ?? '10,1000,10000').split(',').map(Number);
/** Requestors whose credentials are kept: the peers the measured steps talk to. */
const KEPT_PEERS = 8;
const BATCH = 250;
const PARALLEL = 8;

export interface Fixture {
  version: number;
  /** Organisation credential per number of relationships. */
  orgs: Record<string, ParticipantCredential>;
  /** Each organisation's template (truncated reference), for new requests. */
  templates: Record<string, string>;
  /** Requestors related to every organisation (P1, P2, …). */
  peers: ParticipantCredential[];
  buildSeconds: number;
}

const CACHE = path.join(__dirname, '..', '.tmp', 'bench-relationships', `v${FIXTURE_VERSION}-${SIZES.join('-')}`);

const log = (line: string): void => void process.stderr.write(`[relationships fixture] ${line}\n`);

/** Points a credential at another Platform URL (the port of a run; the addresses depend on the host name only). */
export const at = (credential: ParticipantCredential, platformUrl: string): ParticipantCredential => ({ ...credential, platformUrl });

async function build(dataDir: string): Promise<Fixture> {
  const started = now();
  const platform = await startBenchPlatform({ dataDir, maxUnreceivedMessages: 1_000_000 });
  try {
    const open = (credential: ParticipantCredential): Promise<Participant> => openParticipant(credential, { shared: false });
    const newIdentity = async (): Promise<ParticipantCredential> => (await createIdentity({ platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' })).credential;
    const orgs: { size: number; credential: ParticipantCredential; participant: Participant; reference: string }[] = [];
    for (const size of SIZES) {
      const credential = await newIdentity();
      const participant = await open(credential);
      // No expiry worth the name: the cached fixture is used for a long time.
      const template = await createTemplate(participant, {
        content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { organisation: size } },
        expiresAt: new Date(Date.now() + 20 * 365 * 86_400_000).toISOString(),
      });
      orgs.push({ size, credential, participant, reference: template.truncatedReference });
    }
    const peers: ParticipantCredential[] = [];
    const largest = SIZES[SIZES.length - 1];
    for (let first = 0; first < largest; first += BATCH) {
      const indexes = Array.from({ length: Math.min(BATCH, largest - first) }, (_, k) => first + k);
      for (let i = 0; i < indexes.length; i += PARALLEL) {
        await Promise.all(
          indexes.slice(i, i + PARALLEL).map(async (n) => {
            const credential = await newIdentity();
            if (n < KEPT_PEERS) peers[n] = credential;
            const requestor = await open(credential);
            for (const org of orgs) {
              if (n >= org.size) continue;
              await requestRelationship(requestor, await loadTemplate(requestor, org.reference), { '@type': 'ArbitraryRelationshipCreationContent', value: { customer: n } });
            }
          }),
        );
      }
      for (const org of orgs) {
        if (first >= org.size) continue;
        await syncRegistry(org.participant);
        const pending = org.participant.registry.newestFirst().filter((e) => e.status === 'Pending');
        for (const { id } of pending) await acceptRelationship(org.participant, id);
      }
      log(`${first + indexes.length} of ${largest} requestors, ${((now() - started) / 1000).toFixed(0)} s`);
    }
    return {
      version: FIXTURE_VERSION,
      orgs: Object.fromEntries(orgs.map((o) => [String(o.size), o.credential])),
      templates: Object.fromEntries(orgs.map((o) => [String(o.size), o.reference])),
      peers,
      buildSeconds: Math.round((now() - started) / 1000),
    };
  } finally {
    await platform.close();
  }
}

/**
 * The fixture and a fresh copy of its database to run on (removed by `dispose`). Built first when
 * there is no cache of this version; `built` says whether that happened.
 */
export async function loadFixture(): Promise<{ fixture: Fixture; dataDir: string; built: boolean; dispose: () => void }> {
  const fixtureFile = path.join(CACHE, 'fixture.json');
  let built = false;
  if (!existsSync(fixtureFile)) {
    log(`no cache in ${CACHE}: building (this takes minutes)`);
    const building = `${CACHE}.building-${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    const fixture = await build(building);
    writeFileSync(path.join(building, 'fixture.json'), JSON.stringify(fixture));
    rmSync(CACHE, { recursive: true, force: true });
    renameSync(building, CACHE);
    built = true;
  }
  const fixture = JSON.parse(readFileSync(fixtureFile, 'utf8')) as Fixture;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bench-relationships-'));
  for (const file of ['platform.sqlite', 'platform.sqlite-wal']) {
    if (existsSync(path.join(CACHE, file))) copyFileSync(path.join(CACHE, file), path.join(dataDir, file));
  }
  return { fixture, dataDir, built, dispose: () => rmSync(dataDir, { recursive: true, force: true }) };
}

export type { BenchPlatform };
