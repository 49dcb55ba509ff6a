/**
 * What the end-to-end benchmarks share: pairs of identities with an active relationship, ours
 * (lib/protocol) and @nmshd/transport 7.0.0 (the interop harness), set up the same way on each side
 * (A offers a template, B requests, A accepts), and timing helpers.
 */
import type { Participant, ParticipantCredential, ParticipantOptions } from '../lib/protocol';
import { newParticipant } from '../test/helpers/participants';
import { relate } from '../test/helpers/relate';
import { RelationshipStatus, createTransportAccount, type TransportAccount } from '../test/interop/transport/harness';

export type OurParticipant = Participant & { credential: ParticipantCredential };

export const MiB = 1024 * 1024;
export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
export const inOneDay = (): string => new Date(Date.now() + 86_400_000).toISOString();

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** Two of our participants with an active relationship (A templator, B requestor). */
export async function ourPair(baseUrl: string, options: ParticipantOptions = {}): Promise<{ a: OurParticipant; b: OurParticipant; relationshipId: string }> {
  const a = await newParticipant(baseUrl, options);
  const b = await newParticipant(baseUrl, options);
  const relationshipId = await relate(a, b);
  return { a, b, relationshipId };
}

/**
 * Two @nmshd/transport accounts with an active relationship (A templator, B requestor), without
 * their datawallet (no sync of local changes: less work for transport).
 */
export async function transportPair(baseUrl: string, prefix: string): Promise<{ a: TransportAccount; b: TransportAccount }> {
  const connection = { baseUrl, clientId: 'test', clientSecret: 'test', datawalletEnabled: false };
  const a = await createTransportAccount({ ...connection, name: `${prefix}-A` });
  const b = await createTransportAccount({ ...connection, name: `${prefix}-B` });
  const template = await a.createTemplate({ content: { bench: true } });
  const seen = await b.loadTemplateByReference(a.templateReference(template).truncated);
  await b.requestRelationship(seen, { bench: true });
  const atA = await a.syncUntil((c) => c.relationships.length > 0);
  await a.accept(atA.relationships[0]);
  await b.syncUntil((c) => c.relationships.some((r) => r.status === RelationshipStatus.Active));
  return { a, b };
}
