import { acceptRelationship, createTemplate, loadTemplate, requestRelationship, sync, type Participant } from '../../lib/protocol';
import { inOneDay } from './participants';

/** An Active relationship between two of our participants (the templator offers the template, the requestor asks); its id. */
export async function relate(templator: Participant, requestor: Participant): Promise<string> {
  const template = await createTemplate(templator, { content: { '@type': 'ArbitraryRelationshipTemplateContent', value: 't' }, expiresAt: inOneDay() });
  const request = await requestRelationship(requestor, await loadTemplate(requestor, template.truncatedReference), {
    '@type': 'ArbitraryRelationshipCreationContent',
    value: 'r',
  });
  await sync(templator);
  await acceptRelationship(templator, request.id);
  return request.id;
}
