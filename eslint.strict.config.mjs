import { config } from '@n8n/node-cli/eslint';

// @n8n/node-cli's strict (cloud-support) preset, which n8n's verification asks for, run by
// `npm run lint` on credentials/, nodes/ and package.json only: lib/ is shared with the CLI and the
// tests, and uses Node's APIs and timers by design (README: n8n verified-community-node rules).
export default [{ ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.tmp/**'] }, ...config];
