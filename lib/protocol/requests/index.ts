/**
 * Requests by message, for a participant: ours (outgoing.ts: send, record, take the answer) and
 * others' (incoming.ts: list, check, accept, reject), kept in the datawallet (records.ts), and
 * what a received message means for them (events.ts, for the trigger). The JSON logic is in
 * app/requests; the attributes they share and receive in attributes/.
 */
export { MAX_FINISHED, MAX_OPEN } from './records';
export * from './outgoing';
export * from './incoming';
export * from './events';
