import type { Message } from '../messages';
import type { Participant } from '../participant';
import { incomingRequestOf, type IncomingRequest } from './incoming';
import { takeAnswer, type TakenAnswer } from './outgoing';

/**
 * What an opened message means for Requests, for the trigger: a Request someone sent us, or an
 * answer to one of ours (taken into our records and attributes as it is classified). Undefined for
 * any other content. Never throws for what the message says; only the Platform's failures reject.
 */
export type RequestEvent = { event: 'requestReceived'; request: IncomingRequest } | { event: 'requestAnswered'; answer: TakenAnswer };

export async function requestEventOf(ctx: Participant, message: Message): Promise<RequestEvent | undefined> {
  if (message.isOwn) return undefined;
  const request = incomingRequestOf(ctx, message);
  if (request) return { event: 'requestReceived', request };
  const answer = await takeAnswer(ctx, message);
  return answer ? { event: 'requestAnswered', answer } : undefined;
}
