#!/usr/bin/env node
import { createIdentityUsage, runCreateIdentity } from './create-identity';

const usage = `Usage: n8n-nodes-enmeshed <command>

Commands:
  create-identity   onboard a new enmeshed identity and print the n8n credential values

${createIdentityUsage}`;

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2);
  const out = (text: string): boolean => process.stdout.write(text);
  const err = (text: string): boolean => process.stderr.write(text);
  if (command === 'create-identity') return runCreateIdentity(rest, process.env, out, err);
  if (!command || command === '--help' || command === 'help') {
    out(usage + '\n');
    return command ? 0 : 2;
  }
  err(`Unknown command "${command}".\n\n${usage}\n`);
  return 2;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
