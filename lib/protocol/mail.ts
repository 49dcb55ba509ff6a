import { addressProblem } from '../crypto';
import { ProtocolError } from './errors';

/**
 * Message contents the enmeshed App and Connector understand. A content must carry an `@type` the
 * peer's software knows; an unknown one makes the peer's processing fail, so we only send these.
 */

export type BodyFormat = 'PlainText' | 'Markdown';

export interface Mail {
  '@type': 'Mail';
  to: string[];
  cc: string[];
  subject: string;
  body: string;
  bodyFormat?: BodyFormat;
}

export interface ArbitraryMessageContent {
  '@type': 'ArbitraryMessageContent';
  value: unknown;
}

export type MessageContent = Mail | ArbitraryMessageContent | ({ '@type': string } & Record<string, unknown>);

export interface MailInput {
  to: string[];
  cc?: string[];
  subject: string;
  body: string;
  bodyFormat?: BodyFormat;
}

/**
 * A Mail, checked the way the Connector checks it: recipients are valid addresses, no duplicates,
 * and (checked on send) to + cc are exactly the message recipients.
 */
export function buildMail(input: MailInput): Mail {
  const to = input.to.map((a) => a.trim()).filter(Boolean);
  const cc = (input.cc ?? []).map((a) => a.trim()).filter(Boolean);
  if (to.length === 0) throw new ProtocolError('protocol.input.invalid', 'A Mail needs at least one recipient in "to"');
  for (const [field, addresses] of [['to', to], ['cc', cc]] as const) {
    for (const address of addresses) {
      const problem = addressProblem(address);
      if (problem) throw new ProtocolError('protocol.input.invalid', `Mail recipient (${field}): ${problem}`);
    }
  }
  const all = [...to, ...cc];
  if (new Set(all).size !== all.length) throw new ProtocolError('protocol.input.invalid', 'An address appears more than once in to/cc');
  if (typeof input.subject !== 'string') throw new ProtocolError('protocol.input.invalid', 'The Mail subject must be text');
  if (typeof input.body !== 'string') throw new ProtocolError('protocol.input.invalid', 'The Mail body must be text');
  // Limits of @nmshd/content's Mail: a longer subject or body makes the peer's parsing fail.
  if (input.subject.length > 300) throw new ProtocolError('protocol.input.invalid', `The Mail subject has ${input.subject.length} characters; at most 300 are allowed`);
  if (input.body.length > 50_000) throw new ProtocolError('protocol.input.invalid', `The Mail body has ${input.body.length} characters; at most 50000 are allowed`);
  const bodyFormat = input.bodyFormat ?? 'PlainText';
  if (bodyFormat !== 'PlainText' && bodyFormat !== 'Markdown') throw new ProtocolError('protocol.input.invalid', 'The body format must be PlainText or Markdown');
  // Always explicit: runtime 7.1+ (the current App and Connector) reads it; 7.0.0 ignores it.
  return { '@type': 'Mail', to, cc, subject: input.subject, body: input.body, bodyFormat };
}

export function isMail(content: unknown): content is Mail {
  const c = content as Partial<Mail> | undefined;
  return !!c && c['@type'] === 'Mail' && Array.isArray(c.to) && typeof c.subject === 'string' && typeof c.body === 'string';
}

/** Any JSON content a user gives: it must be an object with an `@type`; plain JSON is wrapped. */
export function toMessageContent(value: unknown): MessageContent {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { '@type': 'ArbitraryMessageContent', value };
  }
  const type = (value as { '@type'?: unknown })['@type'];
  if (type === undefined) return { '@type': 'ArbitraryMessageContent', value };
  if (typeof type !== 'string' || !/^[A-Za-z][A-Za-z0-9]*$/.test(type)) {
    throw new ProtocolError('protocol.input.invalid', 'The content "@type" must be a type name such as "Mail" or "ArbitraryMessageContent"');
  }
  if (type === 'Mail') return buildMail(value as unknown as MailInput);
  return value as MessageContent;
}
