/**
 * Requests by message and their Responses, as plain JSON (@nmshd/content 7.0.0):
 *
 *   known-attributes.ts  what we know about attributes (own, a peer's, shared, of the relationship): the view
 *                        Requests are decided and Responses applied against; the runtime 7 sharing rules
 *   items.ts             RequestItems from simple inputs, one builder per item a person can answer
 *   outgoing.ts          our Request: built, or given as JSON and prepared; checked before it is sent
 *   response.ts          a Response read against its Request, never throwing
 *   apply.ts             what the peer's Response to our Request changes in the view
 *   incoming.ts          someone's Request to us: decided per item, the Response and the changed view
 *   wrapper.ts           which message contents are Requests and Responses; the ResponseWrapper we answer with
 */
export * from './known-attributes';
export * from './items';
export * from './outgoing';
export * from './response';
export * from './apply';
export * from './incoming';
export * from './wrapper';
