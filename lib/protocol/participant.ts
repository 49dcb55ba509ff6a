import { createHash } from 'node:crypto';
import { cryptoReady } from '../crypto';
import { PlatformClient, type HttpOptions } from '../backbone';
import { CounterReservations } from '../state/counters';
import { DatawalletStore } from '../state/datawallet';
import { RelationshipEntries } from '../state/relationship-entries';
import { parseIdentityRecord, type Identity } from './identity';
import { OwnKeys } from './own-keys';
import { sync } from './sync';

/**
 * One enmeshed identity in use: what every protocol operation takes — who we are, how to reach the
 * Backbone, our durable state. `openParticipant` returns the same object for the same credential
 * within a process, so parallel n8n executions share one login, one datawallet view (with its index of
 * relationships) and one counter block (other processes coordinate through the datawallet's compare-and-swap).
 */

/** What goes into the n8n credential, and what create-identity prints. */
export interface ParticipantCredential {
  platformUrl: string;
  clientId: string;
  clientSecret: string;
  /** JSON text of the identity record (address, username, device id, secret). */
  identity: string;
}

export interface ParticipantOptions {
  /** Timeouts, retries and request logging of the Platform client. */
  http?: Omit<HttpOptions, 'baseUrl'>;
  /** Counters reserved per datawallet push (default 16). */
  counterBlockSize?: number;
  now?: () => Date;
  /** Share the participant with other callers of the same credential in this process (default true). */
  shared?: boolean;
}

export class Participant {
  readonly client: PlatformClient;
  /** Base URL as it goes into references (no trailing slash). */
  readonly baseUrl: string;
  readonly own: OwnKeys;
  readonly store: DatawalletStore;
  /** This process's index over the relationship objects in the datawallet (peer → ids, id → entry). */
  readonly registry: RelationshipEntries;
  readonly counters: CounterReservations;
  readonly now: () => Date;

  constructor(
    readonly identity: Identity,
    credential: Omit<ParticipantCredential, 'identity'>,
    options: ParticipantOptions = {},
  ) {
    this.baseUrl = credential.platformUrl.replace(/\/+$/, '');
    this.client = new PlatformClient({
      ...options.http,
      baseUrl: this.baseUrl,
      login: { clientId: credential.clientId, clientSecret: credential.clientSecret, username: identity.username, password: identity.keys.devicePassword },
    });
    this.own = new OwnKeys(identity.secret, identity.version);
    this.store = new DatawalletStore(this.client, this.own.datawallet(), { unblock: async () => void (await sync(this)) });
    this.registry = new RelationshipEntries(this.store);
    this.counters = new CounterReservations(this.store, this.registry, options.counterBlockSize);
    this.now = options.now ?? (() => new Date());
  }

  get address(): string {
    return this.identity.address;
  }
}

const shared = new Map<string, Promise<Participant>>();

export async function openParticipant(credential: ParticipantCredential, options: ParticipantOptions = {}): Promise<Participant> {
  await cryptoReady();
  if (options.shared === false) return new Participant(parseIdentityRecord(credential.identity, credential.platformUrl), credential, options);
  // Keyed by a hash, so no secret sits in a map key.
  const key = createHash('sha256')
    .update(JSON.stringify([credential.platformUrl, credential.clientId, credential.clientSecret, credential.identity]))
    .digest('hex');
  let participant = shared.get(key);
  if (!participant) {
    participant = Promise.resolve().then(() => new Participant(parseIdentityRecord(credential.identity, credential.platformUrl), credential, options));
    participant.catch(() => shared.delete(key));
    shared.set(key, participant);
  }
  return participant;
}
