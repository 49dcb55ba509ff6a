// npm run scan: n8n's verification scanner (@n8n/scan-community-package) on this package, offline.
//
// The scanner's command line only takes a published package: it checks its npm provenance, fetches
// the attested GitHub commit and lints that source, then lints the tarball. Its `analyzePackage`
// does the linting, so this runs its two legs on what we have locally, with its own rule set
// (eslint-disable comments ignored, as there):
//   source: package.json and nodes/, credentials/ of this checkout
//   dist:   the compiled .js and package.json of the tarball `npm pack` makes
// The provenance check needs a version published from GitHub Actions and is not run here.
//
// The scanner is installed once into ~/.cache/n8n-nodes-enmeshed (or $N8N_CACHE_DIR), like n8n
// itself (scripts/ensure-n8n.sh), rather than as a devDependency: it brings its own eslint and
// TypeScript. After that it runs offline.
//
//   npm run scan                 summary: errors per file and rule; exit 1 if a leg fails
//   npm run scan -- --details    also the full eslint report
//   npm run scan -- --no-build   scan the existing dist/ (npm pack still runs)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SCANNER_VERSION = '0.32.0';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const cache = join(process.env.N8N_CACHE_DIR || join(homedir(), '.cache', 'n8n-nodes-enmeshed'), `scan-community-package-${SCANNER_VERSION}`);
const details = process.argv.includes('--details');

if (!existsSync(join(cache, '.ready'))) {
  console.error(`Installing @n8n/scan-community-package@${SCANNER_VERSION} into ${cache} (once) ...`);
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  execFileSync('npm', ['init', '-y'], { cwd: cache, stdio: 'ignore' });
  execFileSync('npm', ['i', `@n8n/scan-community-package@${SCANNER_VERSION}`, '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: cache, stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('touch', [join(cache, '.ready')]);
}

if (!process.argv.includes('--no-build')) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const work = join(ROOT, '.tmp', 'scan');
rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'package'), { recursive: true });
execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
execFileSync('tar', ['-xzf', join(work, tarball), '-C', join(work, 'package'), '--strip-components=1']);

const scanner = await import(pathToFileURL(join(cache, 'node_modules', '@n8n', 'scan-community-package', 'scanner', 'scanner.mjs')).href);

// The scanner returns eslint's "stylish" text; count its error lines per file and rule.
function summarize(report, base) {
  const counts = new Map();
  let file = '';
  for (const line of (report ?? '').split('\n')) {
    if (line.startsWith('/')) file = relative(base, line.trim());
    const m = /^\s+\d+:\d+\s+error\s+.*?\s{2,}(\S+)\s*$/.exec(line);
    if (m) counts.set(`${file}  ${m[1]}`, (counts.get(`${file}  ${m[1]}`) ?? 0) + 1);
  }
  return [...counts.entries()].map(([key, n]) => `    ${String(n).padStart(4)}  ${key}`).join('\n');
}

let failed = false;
for (const [leg, dir, patterns] of [
  ['source (package.json, nodes/, credentials/)', ROOT, scanner.SOURCE_FILE_PATTERNS],
  [`dist (${tarball}: compiled .js, package.json)`, join(work, 'package'), ['**/*.js', 'package.json']],
]) {
  const result = await scanner.analyzePackage(dir, patterns);
  failed ||= !result.passed;
  console.log(`${result.passed ? 'PASS' : 'FAIL'}  ${leg}${result.message ? `: ${result.message}` : ''}`);
  if (!result.passed) console.log(summarize(result.details, dir));
  if (details && result.details) console.log(result.details);
}
console.log('SKIP  provenance: checked only for a version published to npm from GitHub Actions with provenance');
process.exit(failed ? 1 : 0);
