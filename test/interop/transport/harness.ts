/**
 * Interop harness: real, unmodified `@nmshd/transport` 7.0.0 accounts (the reference enmeshed client) against a
 * Backbone at any base URL (the local Platform or a real Backbone).
 *
 * Each account is an `AccountController` on its own `Transport`, event bus and in-memory LokiJS database, created
 * exactly as the transport library's own test utilities do. The wrapper adds small helpers for the usual flows
 * (templates and tokens, relationships, messages with attachments, files, sync) and records:
 *   - every transport event published on the account's event bus (`events`), and
 *   - a transcript of the HTTP traffic transport logs (request/response bodies, truncated), shared by all
 *     accounts (`transcript()`), to pin down a Backbone discrepancy when a step fails.
 *
 * `closeAll()` closes every account, event bus and database so that jest can exit.
 */
import { LokiJsConnection } from '@js-soft/docdb-access-loki';
import type { Serializable } from '@js-soft/ts-serval';
import { EventEmitter2EventBus, type Event } from '@js-soft/ts-utils';
import { CoreAddress, CoreDate, CoreId } from '@nmshd/core-types';
import { CoreBuffer } from '@nmshd/crypto';
import {
  AccountController,
  BackboneCompatibilityController,
  RelationshipStatus,
  RelationshipTemplateReference,
  TokenContentFile,
  TokenContentRelationshipTemplate,
  TokenReference,
  Transport,
  type BackboneCompatibility,
  type ChangedItems,
  type DeviceSharedSecret,
  type File,
  type IConfigOverwrite,
  type Message,
  type Relationship,
  type RelationshipTemplate,
  type Token,
} from '@nmshd/transport';
import {
  ArbitraryMessageContent,
  ArbitraryRelationshipCreationContent,
  ArbitraryRelationshipTemplateContent,
  Mail,
  servalRegistriesBridged,
} from './content';

export {
  ArbitraryMessageContent,
  ArbitraryRelationshipCreationContent,
  ArbitraryRelationshipTemplateContent,
  Mail,
  servalRegistriesBridged,
};
export { RelationshipStatus };
export type { ChangedItems, File, Message, Relationship, RelationshipTemplate, Token };

// ---------------------------------------------------------------------------------------------------------------
// Logging: silent, but keeps a bounded transcript of what transport's REST client logs.

type LoggerFactory = NonNullable<ConstructorParameters<typeof Transport>[2]>;
type Logger = ReturnType<LoggerFactory['getLogger']>;

export interface TranscriptEntry {
  at: string;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  logger: string;
  text: string;
}

const TRANSCRIPT_LIMIT = 400;
const ENTRY_LIMIT = 4000;
const transcriptEntries: TranscriptEntry[] = [];

function describeValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) {
    const extra = value as Error & { code?: string; status?: number; object?: unknown };
    const more = JSON.stringify({ code: extra.code, status: extra.status, object: extra.object });
    return `${value.name}: ${value.message} ${more}`;
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function record(level: TranscriptEntry['level'], logger: string, messages: unknown[]): void {
  const verbose = process.env.TRANSPORT_HARNESS_LOG === '1';
  // Keep REST traffic (request and response bodies are logged at trace level), warnings and errors.
  if (!verbose && (level === 'info' || level === 'trace') && !logger.startsWith('Transport.RESTClient')) return;
  let text = messages.map(describeValue).join(' ');
  if (text.length > ENTRY_LIMIT) text = `${text.slice(0, ENTRY_LIMIT)}… (${text.length} chars)`;
  transcriptEntries.push({ at: new Date().toISOString(), level, logger, text });
  if (transcriptEntries.length > TRANSCRIPT_LIMIT) transcriptEntries.splice(0, transcriptEntries.length - TRANSCRIPT_LIMIT);
  if (verbose) process.stderr.write(`[${level}] ${logger}: ${text}\n`);
}

const quietLoggerFactory: LoggerFactory = {
  getLogger(name: string | ((...args: never[]) => unknown)): Logger {
    const loggerName = typeof name === 'string' ? name : name.name;
    return {
      trace: (...m: unknown[]) => record('trace', loggerName, m),
      debug: (...m: unknown[]) => record('debug', loggerName, m),
      info: (...m: unknown[]) => record('info', loggerName, m),
      warn: (...m: unknown[]) => record('warn', loggerName, m),
      error: (...m: unknown[]) => record('error', loggerName, m),
      fatal: (...m: unknown[]) => record('fatal', loggerName, m),
    };
  },
};

/** The last HTTP exchanges and warnings logged by transport (all accounts), oldest first. */
export function transcript(filter?: (e: TranscriptEntry) => boolean): TranscriptEntry[] {
  return filter ? transcriptEntries.filter(filter) : [...transcriptEntries];
}

export function clearTranscript(): void {
  transcriptEntries.length = 0;
}

/** The transcript as text, e.g. to attach to a failing assertion. */
export function formatTranscript(last = 40): string {
  return transcriptEntries
    .slice(-last)
    .map((e) => `${e.at} [${e.level}] ${e.logger}: ${e.text}`)
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Accounts

export interface TransportAccountOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Shown in events and errors; default `account-<n>`. */
  name?: string;
  /** Datawallet sync (Datawallet + SyncRuns with datawallet modifications). Default true. */
  datawalletEnabled?: boolean;
  /** Hostname used in address generation, when it differs from the base URL's hostname. */
  addressGenerationHostnameOverride?: string;
  /** Per-request timeout (ms). Default 30 000. */
  platformTimeout?: number;
  /**
   * Push local changes to the datawallet after each helper that changes data, as the runtime's use cases do
   * (transport itself leaves that to its caller). Default true; no effect without the datawallet.
   */
  autoSyncDatawallet?: boolean;
  /** Further transport config (overrides everything above). */
  config?: Partial<IConfigOverwrite>;
}

export interface RecordedEvent {
  namespace: string;
  data: unknown;
}

export interface CreateTemplateOptions {
  /** Wrapped in ArbitraryRelationshipTemplateContent unless it is already a Serializable. Default `{ purpose: 'interop' }`. */
  content?: unknown;
  /** Default 10 minutes. */
  expiresInMs?: number;
  maxNumberOfAllocations?: number;
  forIdentity?: string;
  password?: string;
  /** `true`: the password is a PIN of its length (`pin<N>`). */
  passwordIsPin?: boolean;
}

export interface CreateTokenOptions {
  expiresInMs?: number;
  ephemeral?: boolean;
  forIdentity?: string;
  password?: string;
  passwordIsPin?: boolean;
}

export interface SharedToken {
  token: Token;
  reference: TokenReference;
  /** The truncated reference (base64url of `id|key…`) as apps share it. */
  truncated: string;
  /** `<baseUrl>/r/<id>#<key…>` form. */
  url: string;
}

export interface UploadOptions {
  filename?: string;
  mimetype?: string;
  title?: string;
  description?: string;
  expiresInMs?: number;
  tags?: string[];
}

export interface SyncUntilOptions {
  /** Number of syncEverything() calls before giving up. Default 12 (about 3.3 s of waiting in all). */
  attempts?: number;
  /** Delay before the n-th retry is `n * delayMs`. Default 50. */
  delayMs?: number;
}

export interface TransportAccount {
  readonly name: string;
  readonly baseUrl: string;
  readonly controller: AccountController;
  readonly transport: Transport;
  readonly address: string;
  readonly deviceId: string;
  /** Every transport event published on this account's bus, in order. */
  readonly events: RecordedEvent[];
  eventsOf(namespace: string): unknown[];

  createTemplate(options?: CreateTemplateOptions): Promise<RelationshipTemplate>;
  /** Reference to the template itself (id + key), truncated and as URL. */
  templateReference(template: RelationshipTemplate): { reference: RelationshipTemplateReference; truncated: string; url: string };
  /** A token whose content is the template's id and key (TokenContentRelationshipTemplate). */
  createTemplateToken(template: RelationshipTemplate, options?: CreateTokenOptions): Promise<SharedToken>;
  /** Loads a peer template through a token reference (truncated, URL, or TokenReference). */
  loadTemplateByToken(reference: string | TokenReference, password?: string): Promise<RelationshipTemplate>;
  /** Loads a peer template by its own reference (truncated, URL, or RelationshipTemplateReference). */
  loadTemplateByReference(reference: string | RelationshipTemplateReference, password?: string): Promise<RelationshipTemplate>;
  loadToken(reference: string | TokenReference, options?: { password?: string; ephemeral?: boolean }): Promise<Token>;

  /** Sends a relationship request for a peer template; the content is wrapped in ArbitraryRelationshipCreationContent. */
  requestRelationship(template: RelationshipTemplate, content?: unknown): Promise<Relationship>;
  accept(relationship: Relationship | CoreId | string): Promise<Relationship>;
  reject(relationship: Relationship | CoreId | string): Promise<Relationship>;
  revoke(relationship: Relationship | CoreId | string): Promise<Relationship>;
  terminate(relationship: Relationship | CoreId | string): Promise<Relationship>;
  requestReactivation(relationship: Relationship | CoreId | string): Promise<Relationship>;
  acceptReactivation(relationship: Relationship | CoreId | string): Promise<Relationship>;
  decompose(relationship: Relationship | CoreId | string): Promise<void>;
  relationshipTo(peer: string | TransportAccount): Promise<Relationship | undefined>;
  getRelationship(id: CoreId | string): Promise<Relationship | undefined>;

  /** One `syncEverything()`: datawallet plus external events. */
  sync(): Promise<ChangedItems>;
  /** Repeats `sync()` until the accumulated changes satisfy `until` (the Backbone is eventually consistent). */
  syncUntil(until: (changes: ChangedItems) => boolean, options?: SyncUntilOptions): Promise<ChangedItems>;
  syncDatawallet(): Promise<void>;

  uploadFile(bytes: Uint8Array, options?: UploadOptions): Promise<File>;
  downloadFile(file: File | CoreId | string): Promise<Buffer>;
  /** A token whose content is the file's id and key (TokenContentFile). */
  createFileToken(file: File, options?: CreateTokenOptions): Promise<SharedToken>;
  /** Loads a peer file through a token reference. */
  loadFileByToken(reference: string | TokenReference, password?: string): Promise<File>;

  /** Sends a `Mail` to the recipients; attachments are uploaded files or raw bytes (uploaded first). */
  sendMail(
    to: (string | TransportAccount)[] | string | TransportAccount,
    mail: { subject: string; body: string; attachments?: (File | { filename: string; bytes: Uint8Array; mimetype?: string })[] },
  ): Promise<Message>;
  /** Sends arbitrary content (wrapped in ArbitraryMessageContent unless it is already a Serializable). */
  sendMessage(to: (string | TransportAccount)[] | string | TransportAccount, content: unknown, attachments?: File[]): Promise<Message>;
  receivedMessages(): Promise<Message[]>;
  getMessage(id: CoreId | string): Promise<Message | undefined>;
  getFile(id: CoreId | string): Promise<File | undefined>;

  /** Second device of this identity (device onboarding through a DeviceSharedSecret; needs the datawallet). */
  onboardNewDevice(name?: string): Promise<TransportAccount>;

  close(): Promise<void>;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MINUTE = 60_000;

interface Resources {
  connection: LokiJsConnection;
  eventBus: EventEmitter2EventBus;
  controller?: AccountController;
}
const openResources = new Set<Resources>();
let accountCounter = 0;

function toId(x: Relationship | CoreId | string): CoreId {
  if (typeof x === 'string') return CoreId.from(x);
  if (x instanceof CoreId) return x;
  return x.id;
}

function toAddress(x: string | TransportAccount): CoreAddress {
  return CoreAddress.from(typeof x === 'string' ? x : x.address);
}

function toList<T>(x: T | T[]): T[] {
  return Array.isArray(x) ? x : [x];
}

function isSerializable(x: unknown): x is Serializable {
  if (typeof x !== 'object' || x === null) return false;
  const candidate = x as { toJSON?: unknown; serialize?: unknown };
  return typeof candidate.toJSON === 'function' && typeof candidate.serialize === 'function';
}

function passwordProtection(password: string | undefined, isPin: boolean | undefined) {
  if (password === undefined) return undefined;
  return { password, passwordType: isPin ? (`pin${password.length}` as const) : ('pw' as const) };
}

function inFuture(ms: number): CoreDate {
  return CoreDate.utc().add({ milliseconds: ms });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function mergeInto(target: ChangedItems, source: ChangedItems): void {
  target.relationships.push(...source.relationships);
  target.messages.push(...source.messages);
  target.identityDeletionProcesses.push(...source.identityDeletionProcesses);
  target.files.push(...source.files);
}

function buildConfig(options: TransportAccountOptions): IConfigOverwrite {
  return {
    baseUrl: options.baseUrl,
    platformClientId: options.clientId,
    platformClientSecret: options.clientSecret,
    supportedIdentityVersion: 1,
    datawalletEnabled: options.datawalletEnabled ?? true,
    platformTimeout: options.platformTimeout ?? DEFAULT_TIMEOUT_MS,
    addressGenerationHostnameOverride: options.addressGenerationHostnameOverride,
    // Request/response bodies go to the (silent) transcript; timing lines only with debug.
    debug: false,
    ...options.config,
  };
}

async function openAccount(
  options: TransportAccountOptions,
  name: string,
  deviceSharedSecret?: DeviceSharedSecret,
): Promise<TransportAccount> {
  const events: RecordedEvent[] = [];
  const eventBus = new EventEmitter2EventBus((error) => {
    record('error', `EventBus(${name})`, [error]);
  });
  eventBus.subscribe('**', (event: Event) => {
    events.push({ namespace: event.namespace, data: (event as Event & { data?: unknown }).data });
  });
  const connection = LokiJsConnection.inMemory();
  const resources: Resources = { connection, eventBus };
  openResources.add(resources);

  try {
    const transport = await new Transport(buildConfig(options), eventBus, quietLoggerFactory).init();
    const db = await connection.getDatabase(`acc-${name}-${Math.random().toString(36).slice(2, 8)}`);
    // docdb-access-loki 1.4.0 implements the abstractions 1.3.0 interfaces; transport types against 1.2.1.
    type AccountDb = ConstructorParameters<typeof AccountController>[1];
    const controller = new AccountController(transport, db as unknown as AccountDb, transport.config);
    resources.controller = controller;
    await controller.init(deviceSharedSecret, name);
    return wrap(controller, transport, options, name, events, resources);
  } catch (e) {
    await closeResources(resources);
    throw e;
  }
}

function wrap(
  controller: AccountController,
  transport: Transport,
  options: TransportAccountOptions,
  name: string,
  events: RecordedEvent[],
  resources: Resources,
): TransportAccount {
  const baseUrl = options.baseUrl;
  const autoSync = options.autoSyncDatawallet ?? true;
  /** Runs a data-changing transport call, then pushes the resulting datawallet modifications. */
  const changing = async <T>(operation: Promise<T>): Promise<T> => {
    const result = await operation;
    if (autoSync) await controller.syncDatawallet();
    return result;
  };

  const parseTokenReference = (r: string | TokenReference) => (typeof r === 'string' ? TokenReference.from(r) : r);
  const parseTemplateReference = (r: string | RelationshipTemplateReference) =>
    typeof r === 'string' ? RelationshipTemplateReference.from(r) : r;

  const loadToken: TransportAccount['loadToken'] = async (reference, opts = {}) =>
    changing(controller.tokens.loadPeerTokenByReference(parseTokenReference(reference), opts.ephemeral ?? false, opts.password));

  const createToken = async (content: Serializable, opts: CreateTokenOptions = {}): Promise<SharedToken> => {
    const token = await changing(controller.tokens.sendToken({
      content,
      expiresAt: inFuture(opts.expiresInMs ?? 10 * MINUTE),
      ephemeral: opts.ephemeral ?? false,
      forIdentity: opts.forIdentity ? CoreAddress.from(opts.forIdentity) : undefined,
      passwordProtection: passwordProtection(opts.password, opts.passwordIsPin),
    }));
    const reference = token.toTokenReference(baseUrl);
    return { token, reference, truncated: reference.truncate(), url: reference.toUrl() };
  };

  const upload = async (bytes: Uint8Array, opts: UploadOptions = {}): Promise<File> =>
    changing(controller.files.sendFile({
      buffer: CoreBuffer.from(bytes),
      filename: opts.filename ?? 'interop.bin',
      mimetype: opts.mimetype ?? 'application/octet-stream',
      title: opts.title,
      description: opts.description,
      tags: opts.tags,
      filemodified: CoreDate.utc(),
      expiresAt: inFuture(opts.expiresInMs ?? 60 * MINUTE),
    }));

  const send = async (to: (string | TransportAccount)[] | string | TransportAccount, content: Serializable, attachments: File[] = []) =>
    changing(controller.messages.sendMessage({ recipients: toList(to).map(toAddress), content, attachments }));

  const sync = async (): Promise<ChangedItems> => controller.syncEverything();

  const account: TransportAccount = {
    name,
    baseUrl,
    controller,
    transport,
    address: controller.identity.address.toString(),
    deviceId: controller.activeDevice.id.toString(),
    events,
    eventsOf: (namespace) => events.filter((e) => e.namespace === namespace).map((e) => e.data),

    async createTemplate(opts = {}) {
      const content = isSerializable(opts.content)
        ? opts.content
        : ArbitraryRelationshipTemplateContent.from({ value: opts.content ?? { purpose: 'interop' } });
      return changing(controller.relationshipTemplates.sendRelationshipTemplate({
        content,
        expiresAt: inFuture(opts.expiresInMs ?? 10 * MINUTE),
        maxNumberOfAllocations: opts.maxNumberOfAllocations,
        forIdentity: opts.forIdentity ? CoreAddress.from(opts.forIdentity) : undefined,
        passwordProtection: passwordProtection(opts.password, opts.passwordIsPin),
      }));
    },
    templateReference(template) {
      const reference = template.toRelationshipTemplateReference(baseUrl);
      return { reference, truncated: reference.truncate(), url: reference.toUrl() };
    },
    async createTemplateToken(template, opts = {}) {
      const content = TokenContentRelationshipTemplate.from({
        templateId: template.id,
        secretKey: template.secretKey,
        forIdentity: template.forIdentity,
        passwordProtection: template.passwordProtection?.toSharedPasswordProtection(true),
      });
      // Like the runtime: personalization and password protection are inherited from the template.
      const inherited = template.passwordProtection;
      return createToken(content, {
        forIdentity: template.forIdentity?.toString(),
        password: inherited?.password,
        passwordIsPin: inherited ? inherited.passwordType.startsWith('pin') : undefined,
        ...opts,
      });
    },
    async loadTemplateByToken(reference, password) {
      const token = await loadToken(reference, { password, ephemeral: true });
      if (!(token.content instanceof TokenContentRelationshipTemplate)) {
        throw new Error(`token ${token.id.toString()} does not reference a relationship template`);
      }
      return changing(controller.relationshipTemplates.loadPeerRelationshipTemplateByTokenContent(token.content, password));
    },
    async loadTemplateByReference(reference, password) {
      const parsed = parseTemplateReference(reference);
      return changing(controller.relationshipTemplates.loadPeerRelationshipTemplateByReference(parsed, password));
    },
    loadToken,

    async requestRelationship(template, content) {
      const creationContent = isSerializable(content)
        ? content
        : ArbitraryRelationshipCreationContent.from({ value: content ?? { from: name } });
      return changing(controller.relationships.sendRelationship({ template, creationContent }));
    },
    accept: async (r) => changing(controller.relationships.accept(toId(r))),
    reject: async (r) => changing(controller.relationships.reject(toId(r))),
    revoke: async (r) => changing(controller.relationships.revoke(toId(r))),
    terminate: async (r) => changing(controller.relationships.terminate(toId(r))),
    requestReactivation: async (r) => changing(controller.relationships.requestReactivation(toId(r))),
    acceptReactivation: async (r) => changing(controller.relationships.acceptReactivation(toId(r))),
    async decompose(r) {
      const relationship = await controller.relationships.getRelationship(toId(r));
      if (!relationship) throw new Error(`no relationship ${toId(r).toString()}`);
      await controller.relationships.decompose(relationship.id);
      await changing(controller.cleanupDataOfDecomposedRelationship(relationship));
    },
    relationshipTo: async (peer) => controller.relationships.getRelationshipToIdentity(toAddress(peer)),
    getRelationship: async (id) => controller.relationships.getRelationship(typeof id === 'string' ? CoreId.from(id) : id),

    sync,
    async syncUntil(until, opts = {}) {
      const attempts = opts.attempts ?? 12;
      const delayMs = opts.delayMs ?? 50;
      const accumulated = await sync();
      for (let i = 1; i < attempts && !until(accumulated); i++) {
        await sleep(i * delayMs);
        mergeInto(accumulated, await sync());
      }
      if (!until(accumulated)) {
        throw new Error(`${name}: sync condition not met after ${attempts} syncs\n${formatTranscript(20)}`);
      }
      return accumulated;
    },
    syncDatawallet: async () => controller.syncDatawallet(true),

    uploadFile: upload,
    async downloadFile(file) {
      const idOrFile = typeof file === 'string' ? CoreId.from(file) : file;
      const buffer = await controller.files.downloadFileContent(idOrFile);
      return Buffer.from(buffer.buffer);
    },
    async createFileToken(file, opts = {}) {
      return createToken(TokenContentFile.from({ fileId: file.id, secretKey: file.secretKey }), opts);
    },
    async loadFileByToken(reference, password) {
      const token = await loadToken(reference, { password, ephemeral: true });
      if (!(token.content instanceof TokenContentFile)) throw new Error(`token ${token.id.toString()} does not reference a file`);
      return changing(controller.files.getOrLoadFile(token.content.fileId, token.content.secretKey));
    },

    async sendMail(to, mail) {
      const recipients = toList(to).map(toAddress);
      const attachments: File[] = [];
      for (const a of mail.attachments ?? []) {
        attachments.push('bytes' in a ? await upload(a.bytes, { filename: a.filename, mimetype: a.mimetype }) : a);
      }
      const content = Mail.from({ to: recipients, subject: mail.subject, body: mail.body });
      return send(recipients.map((r) => r.toString()), content, attachments);
    },
    async sendMessage(to, content, attachments) {
      const wrapped = isSerializable(content) ? content : ArbitraryMessageContent.from({ value: content });
      return send(to, wrapped, attachments);
    },
    receivedMessages: async () => controller.messages.getReceivedMessages(),
    getMessage: async (id) => controller.messages.getMessage(typeof id === 'string' ? CoreId.from(id) : id),
    getFile: async (id) => controller.files.getFile(typeof id === 'string' ? CoreId.from(id) : id),

    async onboardNewDevice(deviceName) {
      const newName = deviceName ?? `${name}-device2`;
      const device = await controller.devices.sendDevice({ name: newName });
      const secret = await controller.activeDevice.secrets.createDeviceSharedSecret(device, 1, true);
      await controller.syncDatawallet(true);
      return openAccount(options, newName, secret);
    },

    close: async () => closeResources(resources),
  };
  return account;
}

async function closeResources(resources: Resources): Promise<void> {
  if (!openResources.delete(resources)) return;
  const errors: unknown[] = [];
  if (resources.controller) {
    // close() logs the identity address; an account that failed during init() has none.
    await resources.controller.close().catch((e: unknown) => errors.push(e));
  }
  await resources.eventBus.close().catch((e: unknown) => errors.push(e));
  await resources.connection.close().catch((e: unknown) => errors.push(e));
  if (errors.length > 0) record('warn', 'harness', ['errors while closing', ...errors]);
}

/**
 * Creates a new identity with one device on the Backbone at `baseUrl` (challenge, POST Identities, token,
 * initial datawallet sync) and returns it wrapped.
 */
export async function createTransportAccount(options: TransportAccountOptions): Promise<TransportAccount> {
  const name = options.name ?? `account-${++accountCounter}`;
  return openAccount(options, name);
}

/** GET /api/v2/Version through transport's own compatibility check (supported Backbone major versions 6 to 7). */
export async function checkBackboneCompatibility(options: TransportAccountOptions): Promise<BackboneCompatibility> {
  const transport = await new Transport(buildConfig(options), new EventEmitter2EventBus(() => undefined), quietLoggerFactory).init();
  const result = await new BackboneCompatibilityController(transport.config).checkBackboneCompatibility();
  if (result.isError) throw result.error;
  return result.value;
}

/** Closes every account (databases, event buses) created by this module. */
export async function closeAll(): Promise<void> {
  await Promise.all([...openResources].map(closeResources));
}

/** Byte equality with a readable failure. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

export { sleep };

/**
 * A test step: fails with transport's recent HTTP transcript attached, and if transport logged an error other
 * than the `expectedErrors` (each of which must then have been logged).
 */
export function step(name: string, fn: () => Promise<void>, options: { timeoutMs?: number; expectedErrors?: RegExp[] } = {}): void {
  const expectedErrors = options.expectedErrors ?? [];
  test(
    name,
    async () => {
      clearTranscript();
      try {
        await fn();
      } catch (e) {
        if (e instanceof Error) e.message += `\n\n--- transport HTTP transcript (last 25 entries) ---\n${formatTranscript(25)}`;
        throw e;
      }
      const errors = transcript((entry) => entry.level === 'error' || entry.level === 'fatal').map((e) => `${e.logger}: ${e.text}`);
      for (const expected of expectedErrors) expect(errors.some((e) => expected.test(e))).toBe(true);
      expect(errors.filter((e) => !expectedErrors.some((expected) => expected.test(e)))).toEqual([]);
    },
    options.timeoutMs,
  );
}
