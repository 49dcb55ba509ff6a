/** Shared steps of the node tests: identities on the local Platform, relationships, running the nodes. */
import { inflateSync } from 'node:zlib';
import { NodeApiError, NodeOperationError, type ICredentialDataDecryptedObject, type INodeExecutionData } from 'n8n-workflow';
import {
  HashAlgorithm,
  cipherToJson,
  encrypt,
  encryptWithCounter,
  generateSecretKey,
  generateSignatureKeypair,
  secretKeyToJson,
  sign,
  signatureToJson,
  toBase64,
  utf8,
} from '../../lib/crypto';
import { getRelationship, parseIdentityRecord, type Participant } from '../../lib/protocol';
import { transportStringify } from '../../lib/protocol/serialize';
import type { ParticipantCredential } from '../../lib/protocol/participant';
import { Enmeshed } from '../../nodes/Enmeshed/Enmeshed.node';
import { EnmeshedTrigger } from '../../nodes/EnmeshedTrigger/EnmeshedTrigger.node';
import { inOneDay, newParticipant } from '../helpers/participants';
import { executeContext, pollContext, type ExecuteContextOptions, type PollContextOptions, type TestPollFunctions } from './context';

export { inOneDay };

/**
 * An identity the nodes use through its credential, plus the same identity opened directly with
 * lib/protocol (a second "worker" of it) for setting up and checking from the outside.
 */
export interface NodeIdentity {
  credential: ICredentialDataDecryptedObject & ParticipantCredential;
  lib: Participant;
  address: string;
}

export async function nodeIdentity(platformUrl: string): Promise<NodeIdentity> {
  const lib = await newParticipant(platformUrl);
  return { credential: { ...lib.credential }, lib, address: lib.address };
}

/** Runs the Enmeshed node (v1 unless `version` says otherwise, through the versioned node as n8n does) and returns its only output. */
export async function runNode(options: ExecuteContextOptions): Promise<INodeExecutionData[]> {
  const ctx = executeContext(options);
  const version = new Enmeshed().nodeVersions[options.version ?? 1];
  const result = (await version.execute!.call(ctx)) as INodeExecutionData[][];
  expect(result).toHaveLength(1);
  const [out] = result;
  // n8n's lint and UI rely on it: every output item says which input item it came from.
  for (const item of out) expect(item.pairedItem).toEqual({ item: expect.any(Number) });
  return out;
}

/** Runs the node expecting a failure; returns the n8n error (NodeOperationError or NodeApiError). */
export async function runNodeError(options: ExecuteContextOptions): Promise<NodeOperationError | NodeApiError> {
  const outcome = await runNode(options).then(
    (out) => ({ out }),
    (error: unknown) => ({ error }),
  );
  if ('out' in outcome) throw new Error(`expected the node to fail, but it returned ${JSON.stringify(outcome.out).slice(0, 500)}`);
  const error = outcome.error;
  if (!(error instanceof NodeOperationError || error instanceof NodeApiError)) {
    throw new Error(`expected an n8n error, got ${String((error as Error)?.stack ?? error)}`);
  }
  return error;
}

/** One poll of a new EnmeshedTrigger instance (n8n creates node instances freely). */
export async function poll(options: PollContextOptions | TestPollFunctions): Promise<INodeExecutionData[] | null> {
  const ctx = 'getWorkflowStaticData' in options ? options : pollContext(options);
  const result = await new EnmeshedTrigger().poll.call(ctx);
  if (result === null) return null;
  expect(result).toHaveLength(1);
  expect(result[0].length).toBeGreaterThan(0);
  return result[0];
}

/** All secrets of a credential: none may appear in any message, description or output. */
export function secretsOf(credential: ParticipantCredential): string[] {
  const record = JSON.parse(credential.identity) as { secret: string };
  const secrets = [credential.clientSecret, record.secret, credential.identity];
  try {
    secrets.push(parseIdentityRecord(credential.identity, credential.platformUrl).keys.devicePassword);
  } catch {
    // a deliberately broken identity: its parts are listed above
  }
  return secrets.filter((s) => s.length >= 8);
}

export function expectNoSecrets(text: string, secrets: string[]): void {
  for (const secret of secrets) expect(text.includes(secret)).toBe(false);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A message that reaches the recipient through the Platform like any other but cannot be read:
 * 'badSignature' — signed with a key that is not the relationship's (signatureInvalid);
 * 'wrongBodyKey' — the wrapped key does not open the body (undecryptable).
 * Built by hand with lib/crypto, exactly like sendMessage except for that one thing.
 */
export async function sendUnreadable(
  sender: Participant,
  recipient: string,
  relationshipId: string,
  kind: 'badSignature' | 'wrongBodyKey',
): Promise<string> {
  const keys = (await getRelationship(sender, relationshipId)).keys!;
  const serialized = transportStringify({
    '@type': 'MessageContentWrapper',
    attachments: [],
    content: { '@type': 'ArbitraryMessageContent', value: `forged (${kind})` },
    createdAt: new Date().toISOString(),
    recipients: [recipient],
  });
  const signingKey = kind === 'badSignature' ? generateSignatureKeypair().prv : keys.ownSignature.prv;
  const signature = JSON.stringify(signatureToJson(sign(utf8(serialized), signingKey, HashAlgorithm.SHA256), false));
  const signed = transportStringify({ '@type': 'MessageSigned', message: serialized, signatures: [{ recipient, signature }] });
  const messageKey = generateSecretKey();
  const body = toBase64(cipherToJson(encrypt(utf8(signed), kind === 'wrongBodyKey' ? generateSecretKey() : messageKey)));
  const counter = await sender.counters.next(relationshipId);
  const encryptedKey = toBase64(
    cipherToJson(encryptWithCounter(utf8(JSON.stringify(secretKeyToJson(messageKey, false))), keys.transmit.key, keys.transmit.baseNonce, counter)),
  );
  const created = await sender.client.sendMessage({ recipients: [{ address: recipient, encryptedKey }], body, attachments: [] });
  return created.id;
}

/** Decodes an 8-bit grayscale, non-interlaced PNG (what qr-png writes): width, height, rows of pixels. Checks every CRC. */
export function decodeGrayPng(png: Buffer): { width: number; height: number; pixel: (x: number, y: number) => number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!png.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  let offset = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  for (;;) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('latin1', offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    const crc = png.readUInt32BE(offset + 8 + length);
    if (crc32(png.subarray(offset + 4, offset + 8 + length)) !== crc) throw new Error(`bad CRC in ${type}`);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      if (data[8] !== 8 || data[9] !== 0 || data[12] !== 0) throw new Error('not 8-bit grayscale non-interlaced');
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  const raw = inflateSync(Buffer.concat(idat));
  if (raw.length !== (width + 1) * height) throw new Error('unexpected image data size');
  for (let y = 0; y < height; y++) if (raw[y * (width + 1)] !== 0) throw new Error('only filter type 0 is decoded here');
  return { width, height, pixel: (x, y) => raw[y * (width + 1) + 1 + x] };
}

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
