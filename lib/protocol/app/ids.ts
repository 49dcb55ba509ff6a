import { randomBytes, sha256 } from '../../crypto';

/** Ids are a 3-letter prefix and 17 characters of [A-Za-z0-9] (core-types CoreIdHelper). */
export const REQUEST_ID = /^REQ[A-Za-z0-9]{17}$/;
export const ATTRIBUTE_ID = /^ATT[A-Za-z0-9]{17}$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Base62 characters from random bytes, without modulo bias. */
function alnum(length: number, nextBytes: () => Uint8Array): string {
  let out = '';
  while (out.length < length) {
    for (const b of nextBytes()) {
      if (b < 248 && out.length < length) out += ALNUM[b % 62];
    }
  }
  return out;
}

/** A fresh id such as REQ… or ATT… (20 characters, as the runtime generates them). */
export function randomCoreId(prefix: 'REQ' | 'ATT'): string {
  return prefix + alnum(17, () => randomBytes(24));
}

/** A stable id derived from a seed: the same seed always gives the same id. */
export function derivedCoreId(prefix: 'REQ' | 'ATT', seed: string): string {
  let round = 0;
  return prefix + alnum(17, () => sha256(`${seed}\u0000${round++}`));
}
