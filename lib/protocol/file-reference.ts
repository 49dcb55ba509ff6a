import { parseSecretKey, secretKeyToJson, type SecretKey } from '../crypto';
import { ProtocolError } from './errors';
import { cryptoJson } from './serialize';

/** A reference to a file: its id, the key of its metadata, and where it lives. Messages carry them as attachments. */
export interface FileReference {
  id: string;
  key: SecretKey;
  backboneBaseUrl: string;
}

export function fileReferenceJson(ref: FileReference): Record<string, unknown> {
  return { backboneBaseUrl: ref.backboneBaseUrl, id: ref.id, key: cryptoJson(secretKeyToJson(ref.key, false)) };
}

export function parseFileReferenceJson(value: unknown, what = 'file reference'): FileReference {
  const v = value as { id?: unknown; key?: unknown; backboneBaseUrl?: unknown } | undefined;
  if (!v || typeof v.id !== 'string' || !/^FIL[A-Za-z0-9]{17}$/.test(v.id)) {
    throw new ProtocolError('protocol.reference.invalid', `${what} has no valid file id`);
  }
  return { id: v.id, key: parseSecretKey(v.key, `${what}.key`), backboneBaseUrl: typeof v.backboneBaseUrl === 'string' ? v.backboneBaseUrl : '' };
}
