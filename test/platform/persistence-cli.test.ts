import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { b64u, createIdentity, getToken, messageBody, relate, request, startPlatform } from './helpers';

describe('persistence', () => {
  it('state survives a restart with a data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'platform-'));
    try {
      let p = await startPlatform({ port: 0, dataDir: dir });
      const a = await createIdentity(p.baseUrl);
      const b = await createIdentity(p.baseUrl);
      const rel = await relate(a, b);
      const msg = (await a.req('POST', '/api/v2/Messages', { json: messageBody([b.address], 'persisted') })).body.result.id;
      await p.close();

      p = await startPlatform({ port: 0, dataDir: dir });
      try {
        // same credentials; old access tokens stay valid (the signing secret is stored too)
        const old = await request(p.baseUrl, 'GET', '/api/v2/Identities/Self', { token: a.token });
        expect(old.body.result.address).toBe(a.address);
        const t = await getToken(p.baseUrl, b.username, b.password);
        expect(t.status).toBe(200);
        const token = t.body.access_token;
        expect((await request(p.baseUrl, 'GET', `/api/v2/Relationships/${rel}`, { token })).body.result.status).toBe('Active');
        expect((await request(p.baseUrl, 'GET', `/api/v2/Messages/${msg}`, { token })).body.result.body).toBe(b64u('persisted'));
        const sync = await request(p.baseUrl, 'POST', '/api/v2/SyncRuns', { token, json: {}, headers: { 'x-supported-datawallet-version': '1' } });
        expect(sync.status).toBe(201);
        expect(sync.body.result.syncRun.eventCount).toBe(2); // StatusChanged (accept) + MessageReceived
      } finally {
        await p.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('CLI', () => {
  it('prints one ready line, serves, adds clients via /admin, stops on SIGTERM with exit 0', async () => {
    const root = resolve(__dirname, '../..');
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', 'platform/cli.ts', '--port', '0', '--client-id', 'cli', '--client-secret', 'cli-secret', '--admin-key', 'adm', '--sse-keep-alive-ms', '200'],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const baseUrl = await new Promise<string>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`no ready line; stderr: ${stderr}`)), 20000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /^enmeshed local Platform ready at (http:\/\/localhost:\d+)\n/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          res(m[1]);
        }
      });
    });
    try {
      expect((await request(baseUrl, 'GET', '/api/v2/Version')).body.result.majorVersion).toBe('7');
      const add = await request(baseUrl, 'POST', '/admin/clients', { json: { clientId: 'test', clientSecret: 'test' }, headers: { 'x-admin-key': 'adm' } });
      expect(add.status).toBe(201);
      const id = await createIdentity(baseUrl, { datawallet: false });
      expect((await getToken(baseUrl, id.username, id.password, 'cli', 'cli-secret')).status).toBe(200);
      // --sse-keep-alive-ms: the stream's keep-alive period.
      const stream = await new Promise<string>((res, rej) => {
        const req = get(`${baseUrl}/api/v2/sse`, { headers: { authorization: `Bearer ${id.token}` }, agent: false }, (r) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (d: string) => {
            text += d;
            if (text.includes('keep-alive')) {
              req.destroy();
              res(text);
            }
          });
        });
        req.on('error', rej);
        setTimeout(() => rej(new Error('no keep-alive within 5 s')), 5000).unref();
      });
      expect(stream).toBe('event: ConnectionOpened\ndata: _\n\nevent: keep-alive\ndata: _\n\n');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
  }, 30000);
});
