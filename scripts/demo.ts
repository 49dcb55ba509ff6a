/**
 * npm run demo — the example workflows end to end on a real n8n 2.41.1, headless, in a temporary
 * folder (nothing of `npm start`'s .demo/ is touched; the n8n install in the cache is reused):
 *
 *   local Platform (in memory) · identities Clinic and Lab, Active relationship · n8n user folder with
 *   the packed package · all examples imported and checked against n8n's node descriptions ·
 *   examples 1 (Lab) and 3 (Clinic) published · `n8n start`, then
 *     1. Clinic: `n8n execute` of example 2 sends a Mail with a PDF report to every active relationship (Lab)
 *     2. Lab: example 1's trigger receives it, routes the PDF by MIME type and saves it to disk
 *     3. Lab: example 1 confirms the file to Clinic; Clinic (through lib/) reads the confirmation
 *     4. a third identity answers Clinic's "Partner onboarding" template; example 3 accepts the request
 *        and sends a welcome Mail, which the newcomer reads
 *     5. a patient answers Clinic's "Patient registration" template; example 5 accepts it and asks for
 *        given name, e-mail and postal address by a Request; the patient accepts with its own
 *        attributes; example 5 saves the answer as JSON and sends a welcome Mail addressed by name
 * Each step is printed with its duration; the exit code is 0 only if every step happened.
 *
 *   npm run demo [-- --keep]      (--keep leaves the temporary folder for a look at n8n's data)
 *
 * `runDemo()` is also what `npm run test:e2e` runs (test/e2e/examples.e2e.test.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startPlatform, type PlatformHandle } from '../platform/server';
import {
  acceptIncomingRequest,
  buildAcceptResponse,
  buildRelationshipTemplateContent,
  createOwnAttribute,
  createTemplate,
  downloadFile,
  getMessage,
  getRelationship,
  isMail,
  listIncomingRequests,
  loadTemplate,
  messagesNewestFirst,
  openParticipant,
  requestRelationship,
  type Participant,
} from '../lib/protocol';
import { createIdentity } from '../lib/protocol/onboarding';
import { cli, createHome, ensureN8n, execute, exportNodes, freePort, importJson, packPackage, ROOT, start, type N8nHome, type Running } from './lib/n8n';
import { ACTIVE_EXAMPLES, credentialsFor, ensureRelationship, FILES_DIR, INBOX_DIRS, inDays, loadExamples, openBoth, type DemoIdentities } from './lib/setup';
import { checkWorkflow, describeFrom, validateWithN8n, type WorkflowJson } from './lib/workflow-check';
import type { INodeTypeDescription } from 'n8n-workflow';
import { waitFor } from './lib/wait';

export interface DemoOptions {
  /** Every line the demo prints. */
  log?: (line: string) => void;
  /** Keep the temporary folder. */
  keep?: boolean;
}

export interface DemoStep {
  title: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

export interface DemoResult {
  ok: boolean;
  steps: DemoStep[];
  ms: number;
}

/** Who registers in step 5 and answers example 5's Request. */
const PATIENT = {
  givenName: 'Jana',
  email: 'jana.novak@example.org',
  address: { recipient: 'Jana Novák', street: 'Lindenstraße', houseNo: '7', zipCode: '10115', city: 'Berlin', country: 'DE' },
};

const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);


/** The newest message `participant` received from `from`, if it is newer than `after` (a message id or undefined). */
async function newestFrom(participant: Participant, from: string, notIn: Set<string>): Promise<string | undefined> {
  for await (const dto of messagesNewestFirst(participant)) {
    if (dto.createdBy === from && !notIn.has(dto.id)) return dto.id;
    if (dto.createdBy === from) return undefined;
  }
  return undefined;
}

/** The newest Mail `participant` received from `from` with this subject, if any. */
async function mailFrom(participant: Participant, from: string, subject: string): Promise<string | undefined> {
  for await (const dto of messagesNewestFirst(participant)) {
    if (dto.createdBy !== from) continue;
    const message = await getMessage(participant, dto.id);
    if (isMail(message.content) && message.content.subject === subject) return dto.id;
  }
  return undefined;
}

interface RunData {
  data?: { resultData?: { runData?: Record<string, { data?: { main?: { json: Record<string, unknown> }[][] } }[]> } };
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const began = Date.now();
  const steps: DemoStep[] = [];
  let failed = false;
  async function step<T>(title: string, fn: () => Promise<T>, detail?: (value: T) => string): Promise<T> {
    const t0 = Date.now();
    const outcome = await fn().then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    if ('error' in outcome) {
      failed = true;
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      steps.push({ title, ok: false, ms: Date.now() - t0, detail: message });
      log(`  ✗ ${title}  (${seconds(Date.now() - t0)})\n${message.replace(/^/gm, '      ')}`);
      throw outcome.error;
    }
    const s: DemoStep = { title, ok: true, ms: Date.now() - t0, detail: detail?.(outcome.value) };
    steps.push(s);
    log(`  ✓ ${title}${s.detail ? ` — ${s.detail}` : ''}  (${seconds(s.ms)})`);
    return outcome.value;
  }

  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(ROOT, '.tmp', 'demo-'));
  log(`npm run demo: the example workflows end to end on a real n8n (temporary data in ${path.relative(ROOT, tmp)})`);
  let platform: PlatformHandle | undefined;
  let running: Running | undefined;
  let home: N8nHome | undefined;
  try {
    const tgz = await step('build and pack the package', async () => packPackage(tmp), (p) => path.basename(p));
    platform = await step('start the local Platform (in memory)', () => startPlatform({}), (p) => p.baseUrl);
    const access = { platformUrl: platform.baseUrl, clientId: 'test', clientSecret: 'test' };
    const identities: DemoIdentities = await step(
      'create the identities Clinic and Lab',
      async () => ({ clinic: (await createIdentity(access)).credential, lab: (await createIdentity(access)).credential }),
    );
    const { clinic, lab } = await openBoth(identities);
    log(`      Clinic ${clinic.address}\n      Lab    ${lab.address}`);
    await step('relationship Clinic ↔ Lab (template → request → accept)', () => ensureRelationship(clinic, lab), (r) => `${r.id} Active`);

    const binaries = await step('n8n 2.41.1 and Node 24 (scripts/ensure-n8n.sh, cached after the first run)', () => ensureN8n((line) => log(`      ${line}`)));
    const [port, broker, executeBroker] = [await freePort(), await freePort(), await freePort()];
    const filesRoot = path.join(tmp, 'n8n', FILES_DIR);
    home = await step(
      'n8n user folder with the packed package installed as the Community Nodes UI does',
      async () => {
        const dir = path.join(tmp, 'n8n');
        fs.mkdirSync(dir, { recursive: true });
        return createHome('demo', tgz, { port, broker }, { dir, binaries, env: { N8N_RESTRICT_FILE_ACCESS_TO: filesRoot } });
      },
    );
    const n8nHome = home;
    for (const dir of INBOX_DIRS) fs.mkdirSync(path.join(n8nHome.dir, dir), { recursive: true });

    const examples = loadExamples();
    await step(
      `import the credentials and all ${examples.length} examples, check them against n8n's node descriptions`,
      async () => {
        await importJson(n8nHome, 'credentials', credentialsFor(identities));
        await importJson(n8nHome, 'workflow', examples.map((e) => e.workflow));
        const descriptions = (await exportNodes(n8nHome)) as unknown as INodeTypeDescription[];
        const problems = examples.flatMap((e) => [
          ...checkWorkflow(e.workflow as unknown as WorkflowJson, describeFrom(descriptions)),
          ...validateWithN8n(path.join(binaries.cache, 'n8n-2.41.1', 'node_modules'), e.workflow as unknown as WorkflowJson, descriptions),
        ].map((p) => `${e.file}: ${p}`));
        if (problems.length) throw new Error(problems.join('\n'));
        for (const id of ACTIVE_EXAMPLES) await cli(n8nHome, ['publish:workflow', `--id=${id}`]);
        return examples;
      },
      (list) => `${list.map((e) => e.file.slice(0, 2)).join(', ')} imported; ${ACTIVE_EXAMPLES.map((id) => id.slice(-1)).join(' and ')} published`,
    );

    // The active triggers' first polls seed their cursors: Lab reads its message list (example 1),
    // Clinic runs a sync (example 3). Anything sent before that would not start them.
    let messageReads = 0;
    let syncRuns = 0;
    platform.setFaults((req) => {
      if (req.method === 'GET' && /\/api\/v2\/Messages\?/i.test(req.url)) messageReads++;
      if (req.method === 'POST' && /\/api\/v2\/SyncRuns$/i.test(req.path)) syncRuns++;
      return undefined;
    });
    running = await step(`n8n start (examples ${ACTIVE_EXAMPLES.map((id) => id.slice(-1)).join(', ')} active)`, () => start(n8nHome, { cwd: n8nHome.dir }), () => `http://localhost:${port}`);
    await step('the triggers activated (their first polls remember where things stand)', async () => {
      await waitFor('the activation polls', 90_000, async () => (messageReads > 0 && syncRuns > 0 ? true : undefined), { everyMs: 250 });
      await new Promise((r) => setTimeout(r, 3_000));
    });
    platform.setFaults(undefined);

    const before = new Set<string>();
    for await (const dto of messagesNewestFirst(clinic)) before.add(dto.id);

    // 1. Clinic sends the scheduled report now.
    const sent = await step(
      '1. Clinic: `n8n execute` of example 2 sends a Mail with a PDF report to every Active relationship',
      async () => {
        const result = (await execute(n8nHome, 'enmeshedExample2', { N8N_RUNNERS_BROKER_PORT: String(executeBroker) })) as RunData;
        const out = result.data?.resultData?.runData?.['Send report']?.[0]?.data?.main?.[0] ?? [];
        if (out.length !== 1) throw new Error(`expected one message (to Lab), got ${out.length}: ${JSON.stringify(out).slice(0, 500)}`);
        const json = out[0].json as { id: string; to: string[]; subject: string };
        if (!json.to.includes(lab.address)) throw new Error(`sent to ${json.to.join(', ')}, not to Lab`);
        const message = await getMessage(clinic, json.id);
        const file = await downloadFile(clinic, message.attachments[0]);
        if (file.file.mimetype !== 'application/pdf' || !file.content.subarray(0, 5).equals(Buffer.from('%PDF-'))) throw new Error('the attachment is not a PDF');
        return { id: json.id, subject: json.subject, filename: file.file.filename, content: file.content };
      },
      (s) => `"${s.subject}" with ${s.filename} (${s.content.length} bytes), ${s.id}`,
    );

    // 4 (started now, so that it shares the triggers' next poll with 2 and 3): a newcomer answers
    // Clinic's onboarding template.
    const newcomer = await openParticipantFor(access);
    const onboarding = await createTemplate(clinic, {
      content: buildRelationshipTemplateContent({
        title: 'Partner onboarding',
        ownerAddress: clinic.address,
        consent: 'We exchange orders and results with you over enmeshed.',
        expiresAt: inDays(1),
      }) as unknown as Record<string, unknown>,
      expiresAt: inDays(1),
    });
    const template = await loadTemplate(newcomer, onboarding.truncatedReference);
    const answer = buildAcceptResponse(template.content, { ownAddress: newcomer.address });
    if (!answer.ok) throw new Error(`cannot answer the onboarding template: ${answer.problems.join('; ')}`);
    const request = await requestRelationship(newcomer, template, answer.content as unknown as Record<string, unknown>);
    const requestedAt = Date.now();

    // 5 (started now too): a patient with a profile answers Clinic's "Patient registration" template.
    const patient = await openParticipantFor(access);
    await createOwnAttribute(patient, { valueType: 'GivenName', value: PATIENT.givenName });
    await createOwnAttribute(patient, { valueType: 'EMailAddress', value: PATIENT.email });
    await createOwnAttribute(patient, { valueType: 'StreetAddress', value: PATIENT.address });
    const registration = await createTemplate(clinic, {
      content: buildRelationshipTemplateContent({ title: 'Patient registration', consent: 'I register as a patient of Example Clinic.', expiresAt: inDays(1) }) as unknown as Record<string, unknown>,
      expiresAt: inDays(1),
    });
    const patientTemplate = await loadTemplate(patient, registration.truncatedReference);
    const patientAnswer = buildAcceptResponse(patientTemplate.content, { ownAddress: patient.address });
    if (!patientAnswer.ok) throw new Error(`cannot answer the registration template: ${patientAnswer.problems.join('; ')}`);
    await requestRelationship(patient, patientTemplate, patientAnswer.content as unknown as Record<string, unknown>);

    // 2. Lab's example 1 gets it at its next poll (every minute) and saves the PDF.
    const pdfDir = path.join(n8nHome.dir, INBOX_DIRS[0]);
    const savedName = `${sent.id}-${sent.filename.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
    await step(
      '2. Lab: example 1\'s trigger receives the Mail, routes the attachment by MIME type and saves the PDF',
      async () => {
        const file = path.join(pdfDir, savedName);
        await waitFor('the saved PDF', 150_000, async () => (fs.existsSync(file) && fs.statSync(file).size === sent.content.length ? true : undefined));
        if (!fs.readFileSync(file).equals(sent.content)) throw new Error(`${file} differs from what Clinic sent`);
        return path.relative(n8nHome.dir, file);
      },
      (file) => `${file}, byte-identical to what Clinic sent`,
    );

    // 3. … and confirms it to Clinic.
    await step(
      '3. Lab: example 1 confirms the file; Clinic reads the confirmation',
      async () => {
        const id = await waitFor('Lab\'s confirmation', 60_000, () => newestFrom(clinic, lab.address, before));
        const message = await getMessage(clinic, id);
        if (!isMail(message.content)) throw new Error('the confirmation is not a Mail');
        if (message.content.subject !== `Re: ${sent.subject}`) throw new Error(`unexpected subject "${message.content.subject}"`);
        if (!message.content.body.includes(sent.filename)) throw new Error(`the body does not name ${sent.filename}: ${message.content.body}`);
        return message.content;
      },
      (mail) => `"${mail.subject}": ${mail.body.replace(/\s+/g, ' ').slice(0, 110)}`,
    );

    await step(
      '4. a newcomer answers Clinic\'s "Partner onboarding" template; example 3 accepts it and sends a welcome Mail',
      async () => {
        await waitFor('the acceptance', Math.max(150_000 - (Date.now() - requestedAt), 30_000), async () =>
          (await getRelationship(newcomer, request.id)).status === 'Active' ? true : undefined, { everyMs: 2_000 });
        const id = await waitFor('the welcome Mail', 60_000, () => newestFrom(newcomer, clinic.address, new Set()));
        const message = await getMessage(newcomer, id);
        if (!isMail(message.content) || message.content.subject !== 'Welcome to Example Clinic') throw new Error(`unexpected message ${JSON.stringify(message.content).slice(0, 300)}`);
        return message.content.subject;
      },
      (subject) => `relationship ${request.id} Active, "${subject}" received`,
    );

    const asked = await step(
      '5. a patient answers Clinic\'s "Patient registration" template; example 5 accepts and asks for contact data; the patient answers with its own attributes',
      async () => {
        const found = await waitFor('example 5\'s Request', 150_000, async () => (await listIncomingRequests(patient, { peer: clinic.address, status: ['Open'] }))[0], { everyMs: 2_000 });
        const answered = await acceptIncomingRequest(patient, found.id);
        return { id: found.id, shared: answered.items.filter((i) => i.effect === 'shared').map((i) => i.attribute?.value['@type']) };
      },
      (a) => `Request ${a.id}, shared ${a.shared.join(', ')}`,
    );
    await step(
      '   example 5 saves the answer as JSON and welcomes the patient by name',
      async () => {
        const file = path.join(n8nHome.dir, INBOX_DIRS[2], `${asked.id}.json`);
        const saved = await waitFor('the saved answer', 150_000, async () => (fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as { attributes?: Record<string, unknown> }) : undefined));
        const expected = { GivenName: PATIENT.givenName, EMailAddress: PATIENT.email, StreetAddress: PATIENT.address };
        // (the value's fields in any order: a message sorts them)
        const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort()) : x));
        if (canonical(saved.attributes) !== canonical(expected)) throw new Error(`the saved answer has ${JSON.stringify(saved.attributes)}, not ${JSON.stringify(expected)}`);
        const id = await waitFor('the Mail addressed by name', 60_000, () => mailFrom(patient, clinic.address, `Welcome, ${PATIENT.givenName}`));
        const mail = (await getMessage(patient, id)).content as { body: string };
        if (!mail.body.includes(PATIENT.email) || !mail.body.includes(PATIENT.address.city)) throw new Error(`the welcome Mail does not use the answer: ${mail.body}`);
        return path.relative(n8nHome.dir, file);
      },
      (file) => `${file} written, "Welcome, ${PATIENT.givenName}" received`,
    );
  } catch (error) {
    failed = true;
    if (running && !steps.some((s) => s.title.startsWith('n8n start') && !s.ok)) log(`--- n8n log (last lines) ---\n${running.log().slice(-4000)}`);
    if (!(error instanceof Error) || !steps.some((s) => !s.ok)) log(`  ✗ ${error instanceof Error ? error.stack : String(error)}`);
  } finally {
    await running?.stop();
    await platform?.close();
    if (options.keep) log(`  (kept ${tmp})`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  const ms = Date.now() - began;
  log(failed ? `demo FAILED after ${seconds(ms)}` : `demo OK: every step happened, in ${seconds(ms)}`);
  return { ok: !failed, steps, ms };
}

async function openParticipantFor(access: { platformUrl: string; clientId: string; clientSecret: string }): Promise<Participant> {
  return openParticipant((await createIdentity(access)).credential, { shared: false });
}

if (require.main === module) {
  runDemo({ keep: process.argv.includes('--keep') }).then(
    (result) => process.exit(result.ok ? 0 : 1),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
