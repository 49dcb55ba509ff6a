import { createIdentity } from '../protocol/onboarding';
import { PlatformError } from '../backbone';
import { parseArgs } from './args';

export const createIdentityUsage = `Usage: n8n-nodes-enmeshed create-identity --platform URL --client-id ID --client-secret SECRET

Creates (onboards) a new enmeshed identity on a Platform (Backbone) and prints the values of the
n8n "Enmeshed API" credential as JSON on standard output. Progress goes to standard error.

Options (or environment variables):
  --platform URL         ENMESHED_PLATFORM_URL    Backbone base URL, e.g. https://backbone.example.org
  --client-id ID         ENMESHED_CLIENT_ID       OAuth client of the Platform operator
  --client-secret SECRET ENMESHED_CLIENT_SECRET   its secret (prefer the variable: arguments show in ps)
  --quiet                                         no progress lines

The printed JSON contains the identity's secret: store it in n8n's credential and nowhere else.`;

/** Returns the process exit code. Writes the credential JSON to `out`, progress and errors to `err`. */
export async function runCreateIdentity(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  const { options } = parseArgs(argv);
  if (options.has('help')) {
    out(createIdentityUsage + '\n');
    return 0;
  }
  const pick = (name: string, variable: string): string | undefined => {
    const value = options.get(name);
    return typeof value === 'string' ? value : env[variable];
  };
  const platformUrl = pick('platform', 'ENMESHED_PLATFORM_URL');
  const clientId = pick('client-id', 'ENMESHED_CLIENT_ID');
  const clientSecret = pick('client-secret', 'ENMESHED_CLIENT_SECRET');
  const missing = [
    !platformUrl && '--platform (ENMESHED_PLATFORM_URL)',
    !clientId && '--client-id (ENMESHED_CLIENT_ID)',
    !clientSecret && '--client-secret (ENMESHED_CLIENT_SECRET)',
  ].filter(Boolean);
  if (missing.length) {
    err(`Missing ${missing.join(', ')}.\n\n${createIdentityUsage}\n`);
    return 2;
  }
  try {
    new URL(platformUrl as string);
  } catch {
    err(`--platform must be a URL such as https://backbone.example.org, got "${platformUrl}"\n`);
    return 2;
  }
  const quiet = options.has('quiet');
  try {
    const { credential } = await createIdentity({
      platformUrl: platformUrl as string,
      clientId: clientId as string,
      clientSecret: clientSecret as string,
      progress: quiet ? undefined : (line) => err(`${line}\n`),
    });
    out(JSON.stringify(credential, null, 2) + '\n');
    return 0;
  } catch (error) {
    const message = error instanceof PlatformError ? `${error.message} [${error.code}]` : error instanceof Error ? error.message : String(error);
    err(`create-identity failed: ${message}\n`);
    return 1;
  }
}
