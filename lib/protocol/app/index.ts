/**
 * Plain-JSON contents for talking to the enmeshed App: the RelationshipTemplateContent an
 * organisation shows a person (title + a Request with consent / attribute items), the
 * RelationshipCreationContent the App answers with (a Response to that Request), and the answer we
 * give when we ourselves accept someone else's App-style template.
 *
 * The shapes follow @nmshd/content 7.0.0 (packages/content/src in nmshd/runtime): every object is
 * what `Serializable.fromUnknown(json)` of that package accepts and what `.toJSON()` of its classes
 * produces. The rules the App applies beyond the classes come from @nmshd/consumption 7.0.0 (the
 * request item processors) and @nmshd/runtime 7.0.0 (RequestModule, CreateOwnRelationshipTemplate).
 * This folder imports none of them: it builds and reads plain JSON.
 *
 *   types.ts              the JSON shapes, the names and limits @nmshd/content knows, AppContentError
 *   attribute-values.ts   the characters the runtime accepts in attribute values
 *   validate-template.ts  checking a template content (ours) and a Request (ours or someone else's)
 *   build-template.ts     our template content from the few inputs an n8n user fills in
 *   read-response.ts      the App's answer to our template, summarised
 *   answer-template.ts    our answer to someone else's App-style template
 *   value-types.ts        the attribute value types, their fields and checks
 *   requests/             Requests by message: building ours, reading Responses, deciding someone else's
 *   checks.ts, ids.ts     JSON checks and request/attribute ids the above share
 */

export * from './types';
export { attributeTextProblem } from './attribute-values';
export { randomCoreId } from './ids';
export { validateTemplateContent, type TemplateValidationOptions } from './validate-template';
export * from './build-template';
export * from './read-response';
export * from './answer-template';
export * from './value-types';
export * from './requests';
export { derivedCoreId } from './ids';
