import type { ICredentialsDecrypted, ICredentialTestFunctions, INodeCredentialTestResult } from 'n8n-workflow';
import { PlatformError } from '../../../../lib/backbone';
import { openFromCredentials } from '../../../shared/session';

/**
 * Logs in and reads the identity: a wrong client secret, an unreachable Platform and an identity
 * secret that does not belong to the address each get their own message.
 */
export async function enmeshedApiTest(this: ICredentialTestFunctions, credential: ICredentialsDecrypted): Promise<INodeCredentialTestResult> {
  try {
    const participant = await openFromCredentials(credential.data ?? {}, (message, description) => new Error(`${message}. ${description}`));
    const identity = await participant.client.getIdentity();
    if (identity.address !== participant.address) {
      return { status: 'Error', message: `The Platform knows this device as ${identity.address}, not ${participant.address}` };
    }
    return { status: 'OK', message: `Connected as ${identity.address}` };
  } catch (error) {
    if (error instanceof PlatformError) {
      if (error.kind === 'network' || error.kind === 'timeout') return { status: 'Error', message: `The Platform cannot be reached: ${error.message}` };
      if (error.code === 'error.oauth.invalid_client') return { status: 'Error', message: 'The client ID or client secret is wrong' };
      if (error.code === 'error.oauth.invalid_grant') {
        return { status: 'Error', message: 'The Platform refused the device login: the identity may belong to another Platform, be deleted, or its username was changed' };
      }
      return { status: 'Error', message: `${error.message} (${error.code})` };
    }
    return { status: 'Error', message: error instanceof Error ? error.message : String(error) };
  }
}
