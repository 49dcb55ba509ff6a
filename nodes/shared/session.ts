import type { ICredentialDataDecryptedObject, IExecuteFunctions, ILoadOptionsFunctions, IPollFunctions, ITriggerFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { cryptoReady } from '../../lib/crypto';
import { IdentityRecordError, openParticipant, parseIdentityRecord, type Participant } from '../../lib/protocol';

/**
 * The participant for the node's credential. lib/protocol shares one per credential within the
 * process, so parallel executions reuse its login, datawallet view and counter block.
 */
export async function participantFor(
  ctx: IExecuteFunctions | IPollFunctions | ITriggerFunctions | ILoadOptionsFunctions,
  credentials?: ICredentialDataDecryptedObject,
): Promise<Participant> {
  const c = credentials ?? (await ctx.getCredentials<ICredentialDataDecryptedObject>('enmeshedApi'));
  return openFromCredentials(c, (message, description) => new NodeOperationError(ctx.getNode(), message, { description }));
}

export async function openFromCredentials(
  c: ICredentialDataDecryptedObject,
  fail: (message: string, description: string) => Error,
): Promise<Participant> {
  const field = (name: string): string => (typeof c[name] === 'string' ? (c[name] as string).trim() : '');
  const platformUrl = field('platformUrl');
  try {
    new URL(platformUrl);
  } catch {
    throw fail('The credential\'s Platform URL is not a URL', 'Enter the Backbone base URL, e.g. https://backbone.example.org');
  }
  const identity = field('identity');
  await cryptoReady(); // parsing the identity derives its keys
  const problem = identityProblem(identity, platformUrl);
  if (problem) throw fail(`The credential's identity is not usable: ${problem}`, 'Check the credential: the identity must be the one create-identity printed for this Platform URL.');
  return openParticipant({ platformUrl, clientId: field('clientId'), clientSecret: field('clientSecret'), identity });
}

function identityProblem(identity: string, platformUrl: string): string | undefined {
  try {
    parseIdentityRecord(identity, platformUrl);
    return undefined;
  } catch (error) {
    return error instanceof IdentityRecordError ? error.message : `it cannot be read (${error instanceof Error ? error.message : String(error)})`;
  }
}
