import { describe, isObject } from './checks';
import { parseResponse, type ParseResponseOptions, type ResponseItemSummary } from './requests/response';

export type { AttributeSummary, ResponseItemSummary } from './requests/response';

/**
 * Reading the App's answer to our template: the RelationshipCreationContent with its Response,
 * summarised for a workflow without ever throwing.
 */

/** What parseRelationshipCreationContent understood. */
export interface CreationContentSummary {
  type: 'RelationshipCreationContent' | 'ArbitraryRelationshipCreationContent' | 'unknown';
  /** Response.result: true for Accepted, false for Rejected, undefined when there is no valid Response. */
  accepted: boolean | undefined;
  requestId?: string;
  /** Every answered item, groups flattened (see `path`). */
  items: ResponseItemSummary[];
  /** The first DisplayName the peer sent, if any (convenience for onboarding). */
  displayName?: string;
  /** For each value type, the first value the peer sent (e.g. { DisplayName: 'Jane', EMailAddress: '…' }). */
  attributes: Record<string, unknown>;
  /** The value of an ArbitraryRelationshipCreationContent. */
  value?: unknown;
  /** What could not be understood or does not fit; empty when everything was understood. */
  problems: string[];
  /** The input, untouched. */
  raw: unknown;
}

/** `request`: the Request the content answers (our template's onNewRelationship); `peerAddress`: the peer. */
export type ParseCreationContentOptions = ParseResponseOptions;

/**
 * A friendly summary of the content a peer sent when requesting a relationship from our template.
 * Never throws: what it cannot understand is listed in `problems`, and the input is in `raw`.
 *
 * For a RelationshipCreationContent it reads the Response (the nested Response usually has no
 * "@type", as the classes' .toJSON() leaves it out) and each item: AcceptResponseItem (consent,
 * shared attribute taken), ReadAttributeAcceptResponseItem (the attribute asked for),
 * AttributeAlreadySharedAcceptResponseItem (the peer had shared it before: only its id),
 * AttributeSuccessionAcceptResponseItem, RejectResponseItem and ErrorResponseItem (code, message).
 */
export function parseRelationshipCreationContent(json: unknown, options: ParseCreationContentOptions = {}): CreationContentSummary {
  const summary: CreationContentSummary = { type: 'unknown', accepted: undefined, items: [], attributes: {}, problems: [], raw: json };
  const problems = summary.problems;
  try {
    if (!isObject(json)) {
      problems.push(`The creation content is not a JSON object but ${describe(json)}`);
      return summary;
    }
    const type = json['@type'];
    if (type === 'ArbitraryRelationshipCreationContent') {
      summary.type = type;
      summary.value = json.value;
      if (json.value === undefined) problems.push('The ArbitraryRelationshipCreationContent has no value');
      return summary;
    }
    if (type !== 'RelationshipCreationContent') {
      problems.push(`Unknown creation content type ${describe(type)}`);
      return summary;
    }
    summary.type = type;
    const response = json.response;
    if (!isObject(response)) {
      problems.push('The RelationshipCreationContent has no Response');
      return summary;
    }
    const parsed = parseResponse(response, options);
    problems.push(...parsed.problems);
    summary.accepted = parsed.accepted;
    if (parsed.requestId !== undefined) summary.requestId = parsed.requestId;
    summary.items = parsed.items;
    summary.attributes = parsed.attributes;
    if (typeof parsed.attributes.DisplayName === 'string') summary.displayName = parsed.attributes.DisplayName;
  } catch (error) {
    problems.push(`The creation content could not be read: ${error instanceof Error ? error.message : String(error)}`);
  }
  return summary;
}
