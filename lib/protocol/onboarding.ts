import { cryptoReady, deriveAddress, hostnameOf, sign, signatureToJson, signaturePublicKeyToJson, toBase64, utf8 } from '../crypto';
import { PlatformClient, PlatformError, type HttpOptions } from '../backbone';
import {
  CURRENT_IDENTITY_VERSION,
  IDENTITY_SIGNATURE_LABEL,
  challengeText,
  deriveIdentityKeys,
  generateIdentitySecret,
  serializeIdentityRecord,
  type Identity,
} from './identity';
import type { ParticipantCredential } from './participant';

/**
 * Onboarding a new identity on a Platform:
 *   challenge → sign with the identity key → create identity (address checked against our own
 *   derivation) → log in → the one-time DatawalletVersionUpgrade sync run, without which every
 *   later sync call answers 404.
 */

export interface OnboardingOptions extends Omit<HttpOptions, 'baseUrl'> {
  platformUrl: string;
  clientId: string;
  clientSecret: string;
  /** Progress lines (never secrets). */
  progress?: (line: string) => void;
}

export interface OnboardingResult {
  identity: Identity;
  credential: ParticipantCredential;
}

export async function createIdentity(options: OnboardingOptions): Promise<OnboardingResult> {
  await cryptoReady();
  const progress = options.progress ?? (() => undefined);
  const platformUrl = options.platformUrl.replace(/\/+$/, '');
  const anonymous = new PlatformClient({ ...options, baseUrl: platformUrl });

  const secret = generateIdentitySecret();
  const keys = deriveIdentityKeys(secret);
  const expectedAddress = deriveAddress(keys.identity.pub.pub, hostnameOf(platformUrl));

  progress(`Requesting a challenge from ${platformUrl}`);
  const challenge = await anonymous.createChallenge();
  const text = challengeText(challenge);
  const signature = sign(utf8(text), keys.identity.prv, IDENTITY_SIGNATURE_LABEL);

  progress('Creating the identity');
  const created = await anonymous.createIdentity({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    identityPublicKey: toBase64(signaturePublicKeyToJson(keys.identity.pub)),
    devicePassword: keys.devicePassword,
    identityVersion: 1,
    signedChallenge: { challenge: text, signature: toBase64(signatureToJson(signature)) },
  });
  if (created.address !== expectedAddress) {
    throw new PlatformError({
      kind: 'malformedResponse',
      code: 'error.client.addressMismatch',
      method: 'POST',
      path: '/api/v2/Identities',
      message: `the Platform assigned ${created.address}, but the key derives ${expectedAddress}: its address domain differs from the hostname of ${platformUrl}`,
    });
  }

  const client = new PlatformClient({
    ...options,
    baseUrl: platformUrl,
    login: { clientId: options.clientId, clientSecret: options.clientSecret, username: created.device.username, password: keys.devicePassword },
  });
  progress('Setting up the datawallet (one-time sync run)');
  const run = await client.startSyncRun('DatawalletVersionUpgrade');
  if (!run.syncRun) {
    throw new PlatformError({
      kind: 'malformedResponse',
      code: 'error.client.malformedResponse',
      method: 'POST',
      path: '/api/v2/SyncRuns',
      message: 'the Platform did not start the datawallet upgrade sync run',
    });
  }
  await client.finalizeDatawalletVersionUpgrade(run.syncRun.id, 1);

  const identity: Identity = { version: CURRENT_IDENTITY_VERSION, address: created.address, username: created.device.username, deviceId: created.device.id, secret, keys };
  progress(`Created ${identity.address}`);
  return {
    identity,
    credential: { platformUrl, clientId: options.clientId, clientSecret: options.clientSecret, identity: serializeIdentityRecord(identity) },
  };
}
