import type { PlatformClient } from '../backbone';
import type { CounterReservations } from '../state/counters';
import type { DatawalletStore } from '../state/datawallet';
import type { Identity } from './identity';
import type { OwnKeys } from './own-keys';

/** What every protocol operation needs: who we are, how to reach the Platform, our durable state. */
export interface ProtocolContext {
  identity: Identity;
  client: PlatformClient;
  /** Base URL as it goes into references (no trailing slash). */
  baseUrl: string;
  own: OwnKeys;
  store: DatawalletStore;
  counters: CounterReservations;
  now: () => Date;
}
