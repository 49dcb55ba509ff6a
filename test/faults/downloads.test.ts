/**
 * File downloads through a faulty network: a blob cut midway, an answer held back beyond the
 * timeout, a 503, a 429 with a near isExhaustedUntil. A read is retried; what is returned is
 * always the whole, verified file, and when every attempt fails the error is a typed
 * PlatformError — never partial content.
 */
import { randomBytes } from 'node:crypto';
import { isPlatformError } from '../../lib/backbone';
import { downloadFile, openParticipant, uploadFile, type FileReference, type Participant } from '../../lib/protocol';
import { startPlatform, type PlatformHandle } from '../../platform/server';
import { inOneDay, newParticipant } from '../helpers/participants';
import { startProxy, type Fault, type TestProxy } from '../helpers/proxy';

let platform: PlatformHandle;
let proxy: TestProxy;
let reader: Participant;
let file: FileReference;
const content = randomBytes(2 * 1024 * 1024 + 17);

beforeAll(async () => {
  platform = await startPlatform({});
  const owner = await newParticipant(platform.baseUrl);
  file = (await uploadFile(owner, { content, filename: 'big.bin', mimetype: 'application/octet-stream', expiresAt: inOneDay() })).reference;
  proxy = await startProxy(platform.baseUrl);
  const other = await newParticipant(platform.baseUrl);
  reader = await openParticipant({ ...other.credential, platformUrl: proxy.baseUrl }, { shared: false, http: { timeoutMs: 1_500, maxAttempts: 3, backoffMs: 5, maxQuotaWaitMs: 2_000 } });
  await reader.client.getIdentity(); // log in before the faults start
});
afterAll(async () => {
  await proxy?.close();
  await platform?.close();
});

const BLOB = /^\/api\/v2\/Files\/FIL[A-Za-z0-9]{17}$/;

/** The first `n` blob downloads get `fault`. */
function blobFaults(n: number, fault: Fault): void {
  let left = n;
  proxy.setDecide((r) => (r.method === 'GET' && BLOB.test(r.path) && left-- > 0 ? fault : undefined));
}

test.each([
  ['cut midway', { kind: 'cut' } as Fault, 3],
  ['answered 503', { kind: 'status', status: 503 } as Fault, 3],
  ['answered 429 quotaExhausted, free again in 200 ms', { kind: 'quota', untilMs: 200 } as Fault, 3],
  ['dropped', { kind: 'drop' } as Fault, 3],
  // Transfers have their own timeout (2 min, lib/backbone/client.ts), not the 1.5 s of other calls.
  ['held back 1.5 s (within the transfer timeout)', { kind: 'delay', ms: 1_500 } as Fault, 1],
])('blob %s: the whole file arrives and verifies', async (_name, fault, requests) => {
  blobFaults(Math.min(2, requests), fault); // twice (then the third attempt passes); a delay once
  const from = proxy.log.length;
  const got = await downloadFile(reader, file);
  proxy.setDecide(undefined);
  expect(got.content.equals(content)).toBe(true);
  expect(proxy.log.slice(from).filter((e) => BLOB.test(e.path))).toHaveLength(requests);
});

test('metadata read held back beyond the timeout: retried', async () => {
  let left = 1;
  proxy.setDecide((r) => (r.path.endsWith('/Metadata') && left-- > 0 ? { kind: 'delay', ms: 3_500 } : undefined));
  const from = proxy.log.length;
  const got = await downloadFile(reader, file);
  proxy.setDecide(undefined);
  expect(got.content.equals(content)).toBe(true);
  expect(proxy.log.slice(from).filter((e) => e.path.endsWith('/Metadata'))).toHaveLength(2);
});

test('blob cut on every attempt: a typed network error, no partial content', async () => {
  blobFaults(100, { kind: 'cut' });
  const error = await downloadFile(reader, file).then(
    () => undefined,
    (e: unknown) => e,
  );
  proxy.setDecide(undefined);
  expect(isPlatformError(error)).toBe(true);
  expect(error).toMatchObject({ kind: 'network', method: 'GET' });
  // a read is safe to repeat: its error does not claim an unknown outcome
  expect((error as { outcomeUnknown?: boolean }).outcomeUnknown).toBeUndefined();
});
