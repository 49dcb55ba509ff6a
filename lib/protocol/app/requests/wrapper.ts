import { isObject } from '../checks';
import type { JsonObject, RequestJson, ResponseWrapperJson } from '../types';

/**
 * Which message contents carry Requests and Responses: a Request is sent as the message content
 * itself; runtime 7 answers one in a ResponseWrapper naming the Request and the message (or
 * template) it came from. A bare Response is read too, matched by its request id only.
 */

export type RequestContent =
  | { kind: 'request'; request: RequestJson }
  | {
      kind: 'response';
      response: JsonObject;
      /** The Response's requestId (or the wrapper's). */
      requestId?: string;
      /** The message (or template) that carried the Request. */
      sourceReference?: string;
      sourceType?: 'Message' | 'RelationshipTemplate';
    }
  | { kind: 'other' };

/** What a message content is, for Requests. Never throws. */
export function classifyContent(content: unknown): RequestContent {
  if (!isObject(content)) return { kind: 'other' };
  const type = content['@type'];
  if (type === 'Request' && Array.isArray(content.items)) return { kind: 'request', request: content as unknown as RequestJson };
  if (type === 'ResponseWrapper' && isObject(content.response)) {
    const inner = content.response;
    const requestId = typeof content.requestId === 'string' ? content.requestId : typeof inner.requestId === 'string' ? inner.requestId : undefined;
    const sourceType = content.requestSourceType === 'Message' || content.requestSourceType === 'RelationshipTemplate' ? content.requestSourceType : undefined;
    const sourceReference = typeof content.requestSourceReference === 'string' ? content.requestSourceReference : undefined;
    return { kind: 'response', response: inner, requestId, sourceReference, sourceType };
  }
  if (type === 'Response' && Array.isArray(content.items)) {
    return { kind: 'response', response: content, requestId: typeof content.requestId === 'string' ? content.requestId : undefined };
  }
  return { kind: 'other' };
}

/** The message content answering a Request that came in the message `requestMessageId`. */
export function buildResponseWrapper(response: ResponseWrapperJson['response'], requestMessageId: string): ResponseWrapperJson {
  return { '@type': 'ResponseWrapper', requestId: response.requestId, requestSourceReference: requestMessageId, requestSourceType: 'Message', response };
}
