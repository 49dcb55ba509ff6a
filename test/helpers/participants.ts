import { createIdentity } from '../../lib/protocol/onboarding';
import { openParticipant, type Participant, type ParticipantCredential, type ParticipantOptions } from '../../lib/protocol/participant';

/** A fresh identity on the given Platform, opened as a participant of our own. */
export async function newParticipant(platformUrl: string, options: ParticipantOptions = {}): Promise<Participant & { credential: ParticipantCredential }> {
  const { credential } = await createIdentity({ platformUrl, clientId: 'test', clientSecret: 'test' });
  const participant = await openParticipant(credential, { shared: false, ...options });
  return Object.assign(participant, { credential });
}

export const inOneHour = (): string => new Date(Date.now() + 3_600_000).toISOString();
export const inOneDay = (): string => new Date(Date.now() + 86_400_000).toISOString();
