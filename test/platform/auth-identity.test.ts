import vectors from '../fixtures/vectors/identity.json';
import { deriveAddress } from '../../platform/util';
import {
  challengeText,
  createIdentity,
  encodePublicKey,
  expectError,
  getToken,
  newChallenge,
  request,
  signChallenge,
  sodiumReady,
  strongPassword,
  withPlatform,
  type PlatformHandle,
} from './helpers';

let platform: PlatformHandle;
let base: string;

beforeAll(async () => {
  platform = await withPlatform({ adminKey: 'admin-secret' });
  base = platform.baseUrl;
});
afterAll(() => platform.close());

describe('address derivation', () => {
  it('matches the spec vector for pk 0x00..0x1f and the identity.json vectors', () => {
    const pk = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(deriveAddress(pk, 'localhost')).toBe('did:e:localhost:dids:fc6cbb07fdde421f7f5880');
    for (const v of vectors.addressDerivation.slice(0, 3))
      expect(deriveAddress(Buffer.from(v.publicKey_hex, 'hex'), v.hostname)).toBe(v.address);
  });
});

describe('identity creation', () => {
  it('creates identity A of the vectors with the derived address and a USR/DVC pair', async () => {
    const sodium = await sodiumReady();
    const kp = sodium.crypto_sign_seed_keypair(Buffer.from(vectors.identityA.seed_hex, 'hex'));
    expect(Buffer.from(kp.publicKey).toString('hex')).toBe(vectors.identityA.publicKey_hex);
    expect(encodePublicKey(kp.publicKey)).toBe(vectors.identityCreation.identityPublicKey);
    const id = await createIdentity(base, { keyPair: kp });
    expect(id.address).toBe(vectors.identityA.address);
    expect(id.username).toMatch(/^USR[A-Za-z0-9]{17}$/);
    expect(id.deviceId).toMatch(/^DVC[A-Za-z0-9]{17}$/);
    const self = await id.req('GET', '/api/v2/Identities/Self');
    expect(self.body.result).toMatchObject({ address: id.address, identityVersion: 1, status: 'Active' });
    const dev = await id.req('GET', '/api/v2/Devices/Self');
    expect(dev.body.result).toMatchObject({ id: id.deviceId, username: id.username, communicationLanguage: 'en', isBackupDevice: false });
    expect(dev.body.result.lastLogin.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // same key again → addressAlreadyExists
    const c = await newChallenge(base);
    const res = await request(base, 'POST', '/api/v2/Identities', {
      json: {
        clientId: 'test',
        clientSecret: 'test',
        identityPublicKey: encodePublicKey(kp.publicKey),
        devicePassword: strongPassword(),
        identityVersion: 1,
        signedChallenge: { challenge: challengeText(c), signature: signChallenge(challengeText(c), kp) },
      },
    });
    expectError(res, 400, 'error.platform.validation.device.addressAlreadyExists');
  });

  it('rejects bad signatures, bad clients, expired challenges and weak passwords', async () => {
    const sodium = await sodiumReady();
    const kp = sodium.crypto_sign_keypair();
    const other = sodium.crypto_sign_keypair();
    const c = await newChallenge(base);
    const text = challengeText(c);
    const body = (over: Record<string, unknown>) => ({
      clientId: 'test',
      clientSecret: 'test',
      identityPublicKey: encodePublicKey(kp.publicKey),
      devicePassword: strongPassword(),
      identityVersion: 1,
      signedChallenge: { challenge: text, signature: signChallenge(text, kp) },
      ...over,
    });
    expectError(
      await request(base, 'POST', '/api/v2/Identities', { json: body({ signedChallenge: { challenge: text, signature: signChallenge(text, other) } }) }),
      400,
      'error.platform.validation.device.invalidSignature',
    );
    // signature over a different string than the one sent
    expectError(
      await request(base, 'POST', '/api/v2/Identities', {
        json: body({ signedChallenge: { challenge: text + ' ', signature: signChallenge(text, kp) } }),
      }),
      400,
      'error.platform.validation.device.invalidSignature',
    );
    expectError(await request(base, 'POST', '/api/v2/Identities', { json: body({ clientSecret: 'nope' }) }), 400, 'error.platform.unauthorized');
    expectError(
      await request(base, 'POST', '/api/v2/Identities', { json: body({ devicePassword: 'short' }) }),
      400,
      'error.platform.validation.device.registrationFailed',
    );
    expectError(
      await request(base, 'POST', '/api/v2/Identities', { json: body({ deviceCommunicationLanguage: 'english' }) }),
      400,
      'error.platform.validation.invalidDeviceCommunicationLanguage',
    );
    // unknown challenge id (correctly signed) → 404
    const fake = JSON.stringify({ expiresAt: c.expiresAt, id: 'CHLaaaaaaaaaaaaaaaaa', type: 'Identity' });
    expectError(
      await request(base, 'POST', '/api/v2/Identities', { json: body({ signedChallenge: { challenge: fake, signature: signChallenge(fake, kp) } }) }),
      404,
      'error.platform.recordNotFound',
    );
    platform.advanceClock(11 * 60 * 1000);
    try {
      expectError(await request(base, 'POST', '/api/v2/Identities', { json: body({}) }), 400, 'error.platform.validation.device.challengeHasExpired');
    } finally {
      platform.advanceClock(-11 * 60 * 1000);
    }
    // challenges are not consumed: the same one works now
    expect((await request(base, 'POST', '/api/v2/Identities', { json: body({}) })).status).toBe(201);
  });

  it('challenges: anonymous vs authenticated, GET needs auth', async () => {
    const id = await createIdentity(base, { datawallet: false });
    const anon = await newChallenge(base);
    expect(anon).toMatchObject({ createdBy: null, createdByDevice: null });
    expect(anon.id).toMatch(/^CHL[A-Za-z0-9]{17}$/);
    const mine = await newChallenge(base, id.token);
    expect(mine).toMatchObject({ createdBy: id.address, createdByDevice: id.deviceId });
    const unauth = await request(base, 'GET', `/api/v2/Challenges/${anon.id}`);
    expect(unauth.status).toBe(401);
    expect(unauth.text).toBe('');
    expect((await id.req('GET', `/api/v2/Challenges/${anon.id}`)).body.result.id).toBe(anon.id);
  });
});

describe('POST /connect/token', () => {
  it('grants, rejects bad secrets/users/grants and expires tokens', async () => {
    const id = await createIdentity(base, { datawallet: false });
    const good = await getToken(base, id.username, id.password);
    expect(good.status).toBe(200);
    expect(good.body).toMatchObject({ token_type: 'Bearer', expires_in: 300 });
    expect(good.body.access_token.split('.')).toHaveLength(3);

    const badClient = await getToken(base, id.username, id.password, 'test', 'wrong');
    expect(badClient.status).toBe(401);
    expect(badClient.body.error).toBe('invalid_client');
    const badPw = await getToken(base, id.username, 'wrong');
    expect(badPw.status).toBe(400);
    expect(badPw.body.error).toBe('invalid_grant');
    const unknown = await getToken(base, 'USRaaaaaaaaaaaaaaaaa', 'x');
    expect(unknown.body.error).toBe('invalid_grant');
    const grant = await request(base, 'POST', '/connect/token', {
      body: 'grant_type=client_credentials&client_id=test&client_secret=test',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('unsupported_grant_type');
    const missing = await request(base, 'POST', '/connect/token', {
      body: 'grant_type=password&client_id=test&client_secret=test',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(missing.body.error).toBe('invalid_request');

    // expiry: the token stops working after its lifetime → bare 401
    const token = good.body.access_token;
    expect((await request(base, 'GET', '/api/v2/Devices/Self', { token })).status).toBe(200);
    platform.advanceClock(301_000);
    try {
      const expired = await request(base, 'GET', '/api/v2/Devices/Self', { token });
      expect(expired.status).toBe(401);
      expect(expired.text).toBe('');
    } finally {
      platform.advanceClock(-301_000);
    }
    expect((await request(base, 'GET', '/api/v2/Devices/Self', { token: token + 'x' })).status).toBe(401);
  });

  it('locks out after 3 failures', async () => {
    const id = await createIdentity(base, { datawallet: false });
    for (let i = 0; i < 3; i++) expect((await getToken(base, id.username, 'wrong')).body.error).toBe('invalid_grant');
    const locked = await getToken(base, id.username, id.password);
    expect(locked.status).toBe(400);
    expect(locked.body.error).toBe('access_denied');
    platform.advanceClock(601_000);
    try {
      expect((await getToken(base, id.username, id.password)).status).toBe(200);
    } finally {
      platform.advanceClock(-601_000);
    }
  });

  it('configurable token lifetime, clients added at runtime and via /admin', async () => {
    const p2 = await withPlatform({ tokenLifetimeSeconds: 1, clients: [{ clientId: 'a', clientSecret: 'b' }], adminKey: 'k' });
    try {
      expect((await request(p2.baseUrl, 'GET', '/admin/clients')).status).toBe(401);
      const add = await request(p2.baseUrl, 'POST', '/admin/clients', { json: { clientId: 'test', clientSecret: 'test' }, headers: { 'x-admin-key': 'k' } });
      expect(add.status).toBe(201);
      const id = await createIdentity(p2.baseUrl, { datawallet: false });
      const t = await getToken(p2.baseUrl, id.username, id.password, 'a', 'b');
      expect(t.body.expires_in).toBe(1);
      p2.addClient('c', 'd');
      expect((await getToken(p2.baseUrl, id.username, id.password, 'c', 'd')).status).toBe(200);
      p2.advanceClock(1500);
      expect((await request(p2.baseUrl, 'GET', '/api/v2/Devices/Self', { token: t.body.access_token })).status).toBe(401);
    } finally {
      await p2.close();
    }
  });
});

describe('devices', () => {
  it('password change, language, additional device with identity-signed challenge', async () => {
    const id = await createIdentity(base, { datawallet: false });
    expectError(
      await id.req('PUT', '/api/v2/Devices/Self/Password', { json: { oldPassword: 'wrong', newPassword: strongPassword() } }),
      400,
      'error.platform.validation.device.changePasswordFailed',
    );
    const newPw = strongPassword();
    expect((await id.req('PUT', '/api/v2/Devices/Self/Password', { json: { oldPassword: id.password, newPassword: newPw } })).status).toBe(204);
    expect((await getToken(base, id.username, newPw)).status).toBe(200);
    expect((await id.req('PUT', '/api/v2/Devices/Self', { json: { communicationLanguage: 'de' } })).status).toBe(204);
    expect((await id.req('GET', '/api/v2/Devices/Self')).body.result.communicationLanguage).toBe('de');

    const c = await newChallenge(base, id.token);
    const text = JSON.stringify({ expiresAt: c.expiresAt, id: c.id, type: 'Device' });
    const pw2 = strongPassword();
    const dev = await id.req('POST', '/api/v2/Devices', {
      json: { devicePassword: pw2, signedChallenge: { challenge: text, signature: signChallenge(text, id.keyPair) }, isBackupDevice: true },
    });
    expect(dev.status).toBe(201);
    expect(dev.body.result).toMatchObject({ createdByDevice: id.deviceId, isBackupDevice: true });
    const t2 = await getToken(base, dev.body.result.username, pw2);
    const self2 = await request(base, 'GET', '/api/v2/Identities/Self', { token: t2.body.access_token });
    expect(self2.body.result.address).toBe(id.address);
    const list = await id.req('GET', '/api/v2/Devices');
    expect(list.body.result).toHaveLength(2);
    expect(list.body.pagination).toBeUndefined();
  });
});

describe('misc routes', () => {
  it('Version, Tags with ETag, unknown routes', async () => {
    const v = await request(base, 'GET', '/api/v2/version');
    expect(v.body).toEqual({ result: { majorVersion: '7' } });
    expect(v.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(v.headers.get('x-correlation-id')).toBeTruthy();
    const tags = await request(base, 'GET', '/api/v2/Tags');
    const etag = tags.headers.get('etag')!;
    expect((await request(base, 'GET', '/api/v2/Tags', { headers: { 'if-none-match': etag } })).status).toBe(304);
    const unknown = await request(base, 'GET', '/api/v2/Nope');
    expect(unknown.status).toBe(404);
    expect(unknown.text).toBe('');
    expect((await request(base, 'GET', '/api/v2/Messages')).status).toBe(401);
  });
});
