import * as fs from 'node:fs';
import * as path from 'node:path';

/** Test vectors produced by the real @nmshd/crypto 2.1.3 / @nmshd/transport 7.0.0 (see fixtures/vectors/README.md). */
export type Vector = any;

export function loadVectors(name: 'primitives' | 'identity' | 'relationship' | 'message' | 'file' | 'references'): Vector {
  return JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'vectors', `${name}.json`), 'utf8'));
}

export const hex = (h: string): Buffer => Buffer.from(h, 'hex');
