// Builds dist/ for the published package with esbuild (run by `npm run build` after the type check).
//
// The package has no runtime dependencies: everything the nodes, the credential and the
// create-identity command use (our lib/, axios, form-data, libsodium-wrappers-sumo,
// qrcode-generator) is bundled, so installing through the Community Nodes UI fetches nothing and
// our axios cannot clash with n8n's. n8n-workflow stays external: n8n provides it (peer dependency).
//
//   dist/nodes/enmeshed.js                              every node and everything they use, once
//   dist/nodes/Enmeshed/Enmeshed.node.js                what package.json "n8n" names: a one-line
//   dist/nodes/EnmeshedTrigger/EnmeshedTrigger.node.js  re-export each from enmeshed.js
//   dist/nodes/EnmeshedInstantTrigger/EnmeshedInstantTrigger.node.js
//   dist/credentials/EnmeshedApi.credentials.js         the credential (type imports only)
//   dist/lib/cli/main.js                                the create-identity command (package "bin")
//   dist/THIRD-PARTY-NOTICES.txt                        licences of the bundled packages
//
// Both nodes share one bundle so that one module instance serves them: one participant cache per
// credential and process (lib/protocol/participant.ts), and the error classes the nodes check with
// `instanceof` are the ones lib/ throws. Two bundles would each carry their own copies.
//
// Option --metafile: writes .tmp/bundle-meta-<n>.json (what takes how much room: esbuild's analyzer).
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const writeMeta = process.argv.includes('--metafile');

const common = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['n8n-workflow'],
  // Class and function names stay readable in n8n's logs and error reports.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
  legalComments: 'none', // the licences go to THIRD-PARTY-NOTICES.txt
  metafile: true,
  logLevel: 'warning',
};

const NODES = [
  { className: 'Enmeshed', source: './nodes/Enmeshed/Enmeshed.node', out: 'nodes/Enmeshed/Enmeshed.node.js' },
  { className: 'EnmeshedTrigger', source: './nodes/EnmeshedTrigger/EnmeshedTrigger.node', out: 'nodes/EnmeshedTrigger/EnmeshedTrigger.node.js' },
  { className: 'EnmeshedInstantTrigger', source: './nodes/EnmeshedInstantTrigger/EnmeshedInstantTrigger.node', out: 'nodes/EnmeshedInstantTrigger/EnmeshedInstantTrigger.node.js' },
];
const SHARED = 'nodes/enmeshed.js';

const results = await Promise.all([
  build({
    ...common,
    stdin: { contents: NODES.map((n) => `export { ${n.className} } from '${n.source}';`).join('\n'), resolveDir: ROOT, sourcefile: 'nodes.ts', loader: 'ts' },
    outfile: join(DIST, SHARED),
  }),
  build({ ...common, entryPoints: ['credentials/EnmeshedApi.credentials.ts'], outfile: join(DIST, 'credentials/EnmeshedApi.credentials.js') }),
  // The entry's `#!/usr/bin/env node` line is kept by esbuild.
  build({ ...common, entryPoints: ['lib/cli/main.ts'], outfile: join(DIST, 'lib/cli/main.js') }),
]);
chmodSync(join(DIST, 'lib/cli/main.js'), 0o755);

for (const node of NODES) {
  const file = join(DIST, node.out);
  mkdirSync(dirname(file), { recursive: true });
  const target = relative(dirname(file), join(DIST, SHARED));
  writeFileSync(
    file,
    `"use strict";\n// The ${node.className} node. Its code and everything it uses are bundled in ${target}, shared with the other node.\nexports.${node.className} = require(${JSON.stringify(target)}).${node.className};\n`,
  );
}

// Nothing outside the bundle may be needed at run time, except n8n-workflow and Node's own modules.
for (const result of results) {
  for (const [out, { imports }] of Object.entries(result.metafile.outputs)) {
    const stray = imports.filter((i) => i.external && i.path !== 'n8n-workflow' && !i.path.startsWith('node:') && !builtinModules.includes(i.path));
    if (stray.length) throw new Error(`${out} needs ${stray.map((i) => i.path).join(', ')} at run time`);
  }
}

// Licences of every bundled package (MIT and ISC ask for their notice to travel with the code).
const packages = new Map();
for (const result of results) {
  for (const input of Object.keys(result.metafile.inputs)) {
    const match = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
    if (match) packages.set(match[2], join(ROOT, match[1]));
  }
}
const notices = [...packages.entries()]
  .sort(([a], [b]) => a.localeCompare(b))
  .map(([name, dir]) => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'License', 'license'].map((f) => join(dir, f)).find((f) => existsSync(f));
    const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
    const text = file ? readFileSync(file, 'utf8').trim() : `${pkg.license} licence, copyright ${author ?? 'its authors'} (see ${pkg.homepage ?? pkg.repository?.url ?? 'its repository'})`;
    return `${name} ${pkg.version} (${pkg.license})\n\n${text}\n`;
  });
writeFileSync(join(DIST, 'THIRD-PARTY-NOTICES.txt'), `Packages bundled into this package's dist/ files:\n\n${notices.join(`\n${'-'.repeat(72)}\n\n`)}`);

if (writeMeta) {
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  results.forEach((r, i) => writeFileSync(join(ROOT, '.tmp', `bundle-meta-${i}.json`), JSON.stringify(r.metafile)));
}
