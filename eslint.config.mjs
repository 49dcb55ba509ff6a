import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

// n8n's community-node rules, without the cloud preset, for the whole repository. The cloud preset
// runs on nodes/ and credentials/ too (eslint.strict.config.mjs, part of `npm run lint`); lib/ and
// the bundled libraries cannot meet it (README: n8n verified-community-node rules).
export default [
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] },
  ...configWithoutCloudSupport,
  {
    // lib/ is n8n-free by design (reused by the CLI, the local Platform's tests and interop tests):
    // it throws its own typed errors, which the nodes turn into NodeApiError/NodeOperationError.
    files: ['lib/**/*.ts', 'platform/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
  },
  {
    // Command-line programs and the development server print to the terminal on purpose.
    // Benchmarks and tests start processes (fresh-process memory probes, the local Platform, n8n).
    files: ['platform/**/*.ts', 'bench/**/*.ts', 'lib/cli/**/*.ts', 'scripts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['bench/**/*.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    rules: { '@n8n/community-nodes/no-dangerous-functions': 'off' },
  },
  {
    // Test vectors and fixtures are untyped JSON.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
];
