/** The real-n8n end-to-end run (npm run test:e2e): slow, so kept out of `npm test`. */
const base = require('./jest.config');

module.exports = { ...base, testMatch: ['**/test/e2e/**/*.e2e.test.ts'], testPathIgnorePatterns: ['/node_modules/'], testTimeout: 15 * 60_000 };
