/**
 * The published package as users get it: `npm pack`, then installed the way n8n's Community Nodes
 * UI installs it. It brings no runtime dependencies (everything but n8n-workflow is bundled by
 * scripts/bundle.mjs), so the install fetches nothing and leaves nothing but the package. Loaded
 * with n8n's Node 24 and n8n's own n8n-workflow, both nodes come from one module instance (one
 * participant cache per process). `n8n export:nodes` in n8n.e2e.test.ts loads them in n8n itself.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { n8nCache, N8N_VERSION, packPackage, ROOT } from '../../scripts/lib/n8n';

jest.setTimeout(10 * 60_000);

const run = promisify(execFile);
let dir: string;

// Outside the repository, so that nothing from its node_modules can be found.
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'n8n-nodes-enmeshed-package-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the tarball holds the bundles, icons, codex files and notices, and installs without fetching anything else', async () => {
  const tgz = packPackage();
  const { stdout: listing } = await run('tar', ['-tzf', tgz]);
  expect(listing.trim().split('\n').sort()).toEqual(
    [
      'LICENSE.md',
      'README.md',
      'package.json',
      'dist/THIRD-PARTY-NOTICES.txt',
      'dist/credentials/EnmeshedApi.credentials.js',
      'dist/icons/enmeshed.dark.svg',
      'dist/icons/enmeshed.svg',
      'dist/lib/cli/main.js',
      'dist/nodes/Enmeshed/Enmeshed.node.js',
      'dist/nodes/Enmeshed/Enmeshed.node.json',
      'dist/nodes/EnmeshedInstantTrigger/EnmeshedInstantTrigger.node.js',
      'dist/nodes/EnmeshedInstantTrigger/EnmeshedInstantTrigger.node.json',
      'dist/nodes/EnmeshedTrigger/EnmeshedTrigger.node.js',
      'dist/nodes/EnmeshedTrigger/EnmeshedTrigger.node.json',
      'dist/nodes/enmeshed.js',
    ]
      .map((f) => `package/${f}`)
      .sort(),
  );
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  expect(manifest.dependencies).toBeUndefined();

  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'installed-nodes', private: true }));
  await run('npm', ['i', tgz, '--omit=peer', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  const installed = fs.readdirSync(path.join(dir, 'node_modules')).filter((f) => !f.startsWith('.'));
  expect(installed).toEqual(['n8n-nodes-enmeshed']);

  const { stdout: help } = await run(path.join(dir, 'node_modules', '.bin', 'n8n-nodes-enmeshed'), ['--help']);
  expect(help).toContain('create-identity');
});

test('in n8n\'s Node with n8n\'s n8n-workflow, both nodes and the credential load, sharing one module instance', async () => {
  const binaries = n8nCache();
  const pkg = path.join(dir, 'node_modules', 'n8n-nodes-enmeshed');
  // What n8n's loader does (n8n-core's loadClassInIsolation): require the file, instantiate the
  // class. n8n has n8n-workflow loaded already, so the time counts our files only.
  const probe = `
    require('n8n-workflow');
    const t0 = process.hrtime.bigint();
    const { Enmeshed } = require(${JSON.stringify(path.join(pkg, 'dist/nodes/Enmeshed/Enmeshed.node.js'))});
    const { EnmeshedTrigger } = require(${JSON.stringify(path.join(pkg, 'dist/nodes/EnmeshedTrigger/EnmeshedTrigger.node.js'))});
    const { EnmeshedApi } = require(${JSON.stringify(path.join(pkg, 'dist/credentials/EnmeshedApi.credentials.js'))});
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const node = new Enmeshed(), trigger = new EnmeshedTrigger(), credential = new EnmeshedApi();
    const ours = Object.keys(require.cache).filter((f) => f.startsWith(${JSON.stringify(pkg)}));
    console.log(JSON.stringify({
      ms,
      modules: ours.map((f) => f.slice(${pkg.length + 1})).sort(),
      names: [node.description.name, trigger.description.name, credential.name],
      sameTest: node.nodeVersions[1].methods.credentialTest.enmeshedApiTest === trigger.methods.credentialTest.enmeshedApiTest,
      workflowFrom: Object.keys(require.cache).find((f) => f.includes('/n8n-workflow/')),
    }));`;
  // n8n-workflow from n8n's installation, as n8n provides it to community nodes.
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_PATH: path.join(binaries.cache, `n8n-${N8N_VERSION}`, 'node_modules') };
  delete env.NODE_OPTIONS;
  const { stdout } = await run(binaries.node, ['-e', probe], { cwd: dir, env });
  const result = JSON.parse(stdout) as { ms: number; modules: string[]; names: string[]; sameTest: boolean; workflowFrom: string };
  expect(result.names).toEqual(['enmeshed', 'enmeshedTrigger', 'enmeshedApi']);
  expect(result.modules).toEqual([
    'dist/credentials/EnmeshedApi.credentials.js',
    'dist/nodes/Enmeshed/Enmeshed.node.js',
    'dist/nodes/EnmeshedTrigger/EnmeshedTrigger.node.js',
    'dist/nodes/enmeshed.js',
  ]);
  expect(result.sameTest).toBe(true);
  expect(result.workflowFrom).toContain(`n8n-${N8N_VERSION}`);
  process.stdout.write(`cold require of both nodes and the credential: ${result.ms.toFixed(0)} ms\n`);
});
