import type SodiumModule from 'libsodium-wrappers-sumo';
import { CryptoError } from './errors';

/**
 * libsodium must finish loading its WebAssembly before any call. Everything async in this
 * package awaits `cryptoReady()` once; the synchronous primitives then use `sodium()`.
 *
 * We use the sumo build (as @nmshd/crypto does) because only it has Argon2id (`crypto_pwhash`),
 * which password-protected templates and tokens need.
 */
type Sodium = typeof SodiumModule;

let loaded: Sodium | undefined;
let loading: Promise<Sodium> | undefined;

/**
 * The library is loaded here, on first use, not when this module is: it is ~1 MiB of JavaScript with
 * the WebAssembly inlined, which starts compiling as soon as it is required. n8n loads every node of
 * an installed package at startup, used or not; this way only a process that runs one pays for it.
 */
export function cryptoReady(): Promise<Sodium> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= import('libsodium-wrappers-sumo').then(
    async ({ default: sodiumModule }) => {
      await sodiumModule.ready;
      loaded = sodiumModule;
      return sodiumModule;
    },
    (error: unknown) => {
      loading = undefined; // a failed load may be retried
      throw error;
    },
  );
  return loading;
}

export function sodium(): Sodium {
  if (!loaded) {
    throw new CryptoError('crypto.notReady', 'libsodium is not initialised: await cryptoReady() first');
  }
  return loaded;
}

/** HChaCha20 (missing from the libsodium typings, present in the library). */
export function hchacha20(input16: Uint8Array, key: Uint8Array): Uint8Array {
  const s = sodium() as unknown as { crypto_core_hchacha20(input: Uint8Array, key: Uint8Array, constant: null): Uint8Array };
  return s.crypto_core_hchacha20(input16, key, null);
}
