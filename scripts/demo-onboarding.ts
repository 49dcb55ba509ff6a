/**
 * npm run demo:onboarding — starts the local Platform, creates two identities with the
 * create-identity command-line tool (as separate processes, exactly as a user would run it) and
 * prints their addresses. The credential JSON (with secrets) is kept in memory only.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { startPlatform } from '../platform/server';

const run = promisify(execFile);

async function main(): Promise<void> {
  const platform = await startPlatform({});
  console.log(`local Platform at ${platform.baseUrl}`);
  try {
    for (const name of ['Clinic', 'Lab']) {
      const { stdout } = await run(
        process.execPath,
        ['-r', 'ts-node/register/transpile-only', path.join(__dirname, '..', 'lib', 'cli', 'main.ts'), 'create-identity', '--quiet'],
        {
          env: { ...process.env, ENMESHED_PLATFORM_URL: platform.baseUrl, ENMESHED_CLIENT_ID: 'test', ENMESHED_CLIENT_SECRET: 'test' },
        },
      );
      const credential = JSON.parse(stdout) as { identity: string };
      const { address } = JSON.parse(credential.identity) as { address: string };
      console.log(`${name.padEnd(7)} ${address}`);
    }
  } finally {
    await platform.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
