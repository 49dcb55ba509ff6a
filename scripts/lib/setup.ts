import * as fs from 'node:fs';
import * as path from 'node:path';
import { acceptRelationship, createTemplate, listRelationships, loadTemplate, openParticipant, requestRelationship, sync, syncRegistry, type Participant } from '../../lib/protocol';
import { createIdentity } from '../../lib/protocol/onboarding';
import type { ParticipantCredential } from '../../lib/protocol/participant';
import { ROOT } from './n8n';

/**
 * What `npm start` and `npm run demo` set up around n8n: the two demo identities Clinic and Lab,
 * an Active relationship between them, the n8n credentials the examples reference, and the
 * examples themselves.
 */

/** The credential ids and names the example workflows reference (examples/*.json). */
export const CREDENTIALS = {
  clinic: { id: 'enmeshedClinic01', name: 'Clinic (enmeshed)' },
  lab: { id: 'enmeshedLab00001', name: 'Lab (enmeshed)' },
  ollama: { id: 'ollamaLocal00001', name: 'Ollama (local)' },
} as const;

export const EXAMPLES_DIR = path.join(ROOT, 'examples');

export interface PlatformAccess {
  platformUrl: string;
  clientId: string;
  clientSecret: string;
}

export interface DemoIdentities {
  clinic: ParticipantCredential;
  lab: ParticipantCredential;
}

export const addressOf = (credential: ParticipantCredential): string => (JSON.parse(credential.identity) as { address: string }).address;

interface IdentitiesFile {
  v: 1;
  /** Keyed by `local` (the local Platform, whatever its port) or the Platform URL. */
  platforms: Record<string, DemoIdentities>;
}

/**
 * The identities of `key` from `file`, created (and saved, mode 0600) the first time. For the local
 * Platform the saved platformUrl is replaced by the current one: addresses depend on the hostname
 * only, so a changed port keeps the identities.
 */
export async function ensureIdentities(file: string, key: string, access: PlatformAccess, progress: (line: string) => void): Promise<{ identities: DemoIdentities; created: boolean }> {
  let saved: IdentitiesFile = { v: 1, platforms: {} };
  if (fs.existsSync(file)) saved = JSON.parse(fs.readFileSync(file, 'utf8')) as IdentitiesFile;
  const existing = saved.platforms[key];
  const withAccess = (c: ParticipantCredential): ParticipantCredential => ({ ...c, platformUrl: access.platformUrl, clientId: access.clientId, clientSecret: access.clientSecret });
  if (existing) return { identities: { clinic: withAccess(existing.clinic), lab: withAccess(existing.lab) }, created: false };
  const identities: Partial<DemoIdentities> = {};
  for (const name of ['clinic', 'lab'] as const) {
    progress(`creating the identity ${name === 'clinic' ? 'Clinic' : 'Lab'} on ${access.platformUrl}`);
    identities[name] = (await createIdentity({ ...access })).credential;
  }
  saved.platforms[key] = identities as DemoIdentities;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return { identities: identities as DemoIdentities, created: true };
}

export const inDays = (days: number): string => new Date(Date.now() + days * 86_400_000).toISOString();

/** Opens both identities (unshared participants, so nothing lingers in n8n's processes). */
export async function openBoth(identities: DemoIdentities): Promise<{ clinic: Participant; lab: Participant }> {
  return {
    clinic: await openParticipant(identities.clinic, { shared: false }),
    lab: await openParticipant(identities.lab, { shared: false }),
  };
}

/**
 * An Active relationship Clinic ↔ Lab: template (Clinic) → request (Lab) → accept (Clinic), unless
 * there is one already; a Pending one (e.g. from an interrupted first start) is accepted.
 */
export async function ensureRelationship(clinic: Participant, lab: Participant): Promise<{ id: string; created: boolean }> {
  await syncRegistry(clinic);
  const existing = (await listRelationships(clinic, { search: lab.address })).filter((r) => r.peer === lab.address);
  const active = existing.find((r) => r.status === 'Active');
  if (active) return { id: active.id, created: false };
  const pending = existing.find((r) => r.status === 'Pending' && r.role === 'templator');
  if (pending) {
    await acceptRelationship(clinic, pending.id);
    return { id: pending.id, created: true };
  }
  const template = await createTemplate(clinic, {
    content: { '@type': 'ArbitraryRelationshipTemplateContent', value: { title: 'Clinic and Lab (demo)' } },
    expiresAt: inDays(1),
  });
  const request = await requestRelationship(lab, await loadTemplate(lab, template.truncatedReference), {
    '@type': 'ArbitraryRelationshipCreationContent',
    value: {},
  });
  await sync(clinic);
  await acceptRelationship(clinic, request.id);
  return { id: request.id, created: true };
}

/** The n8n credentials (import:credentials format) of both identities, plus a local Ollama one for example 4. */
export function credentialsFor(identities: DemoIdentities): unknown[] {
  const enmeshed = (ref: { id: string; name: string }, c: ParticipantCredential) => ({
    id: ref.id,
    name: ref.name,
    type: 'enmeshedApi',
    data: { platformUrl: c.platformUrl, clientId: c.clientId, clientSecret: c.clientSecret, identity: c.identity },
  });
  return [
    enmeshed(CREDENTIALS.clinic, identities.clinic),
    enmeshed(CREDENTIALS.lab, identities.lab),
    { id: CREDENTIALS.ollama.id, name: CREDENTIALS.ollama.name, type: 'ollamaApi', data: { baseUrl: 'http://localhost:11434' } },
  ];
}

export interface Example {
  file: string;
  id: string;
  name: string;
  workflow: Record<string, unknown> & { id: string; name: string; nodes: { name: string; type: string }[] };
}

export function loadExamples(dir = EXAMPLES_DIR): Example[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const workflow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Example['workflow'];
      return { file, id: workflow.id, name: workflow.name, workflow };
    });
}

/** The examples `npm start` and the demo publish (activate): Lab's inbound routing, Clinic's auto-accept and contact-data Request. */
export const ACTIVE_EXAMPLES = ['enmeshedExample1', 'enmeshedExample3', 'enmeshedExample5'];

/** The folders examples 1 and 5 write to, relative to n8n's working directory (inside N8N_RESTRICT_FILE_ACCESS_TO). */
export const FILES_DIR = '.n8n-files';
export const INBOX_DIRS = ['.n8n-files/enmeshed-inbox/pdf', '.n8n-files/enmeshed-inbox/images', '.n8n-files/enmeshed-answers'];
