import { requestEventOf, type IncomingRequest, type Message, type Participant, type TakenAnswer } from '../../lib/protocol';

/**
 * The trigger's Request events, from the messages its poll opens anyway: "Request Received" for a
 * Request a peer sent us, "Request Answered" for an answer to one of ours (taken into our records
 * and the peer's attributes as it is read). Kept apart from poller.ts, which only asks which events
 * a message gives.
 */

export type RequestEventName = 'requestReceived' | 'requestAnswered';

export type RequestTriggerEvent = { event: 'requestReceived'; request: IncomingRequest } | { event: 'requestAnswered'; answer: TakenAnswer };

const REQUEST_EVENTS: readonly string[] = ['requestReceived', 'requestAnswered'];

export const wantsRequestEvents = (events: readonly string[]): boolean => events.some((e) => REQUEST_EVENTS.includes(e));

/** The Request events of an opened message that `events` asks for (none for other contents). */
export async function requestEventsOf(participant: Participant, message: Message, events: readonly string[]): Promise<RequestTriggerEvent[]> {
  if (!wantsRequestEvents(events)) return [];
  const found = await requestEventOf(participant, message);
  return found && events.includes(found.event) ? [found] : [];
}
