import { randomBytes } from 'node:crypto';
import { HttpClient, type BodySink, type BodySource, type HttpOptions, type RequestSpec } from './http';
import { PlatformError } from './errors';
import { TokenManager, type DeviceLogin } from './auth';
import { EventStream, type EventStreamOptions } from './events-stream';
import type * as T from './types';
import { checkDeletionProcess, checkFileMetadata, checkMessage, checkRelationship, checkTemplate, checkToken } from './validate';

/**
 * A typed client of the enmeshed Backbone Consumer API v2: one method per call this package makes.
 * No crypto happens here; bodies are already-encrypted strings and bytes. Every record it returns is
 * shape-checked, and a record fetched or changed by id is checked to be that record (validate.ts).
 */

export interface PlatformClientOptions extends Omit<HttpOptions, 'baseUrl'> {
  baseUrl: string;
  /** Device login; needed for every authenticated call. */
  login?: DeviceLogin;
  /** Datawallet version this client supports (sent on sync and datawallet calls). */
  datawalletVersion?: number;
  /** Page size for list calls (Backbone default 50, max 200). */
  pageSize?: number;
  /** Clock for token expiry (tests). */
  now?: () => number;
}

const API = '/api/v2';
const seg = (id: string): string => encodeURIComponent(id);

/**
 * A file blob produced while it is uploaded: its exact length, and a reader from its first byte (a
 * new one per attempt) that also gives the blob's `cipherHash` once every byte was read. The
 * multipart body's length must be known before that: `cipherHashLength` is the hash's length in
 * bytes (default: base64url of SHA-512, 86).
 */
export interface BlobSource {
  length: number;
  cipherHashLength?: number;
  open(): { read(target: Buffer): number; cipherHash(): string };
}

/** An upload whose blob is produced while it is sent; its cipherHash comes from the blob source. */
export type StreamedUploadFileRequest = Omit<T.UploadFileRequest, 'content' | 'cipherHash'> & { content: BlobSource };

/** base64url of a SHA-512 digest. */
const SHA512_BASE64URL_LENGTH = 86;

/** A blob that is already in memory, with its cipherHash. */
function bufferedBlob(bytes: Buffer, cipherHash: string): BlobSource {
  return {
    length: bytes.length,
    cipherHashLength: Buffer.byteLength(cipherHash),
    open() {
      let at = 0;
      return {
        read(target) {
          const n = bytes.copy(target, 0, at);
          at += n;
          return n;
        },
        cipherHash: () => cipherHash,
      };
    },
  };
}

/**
 * The multipart/form-data body of an upload, produced piece by piece into the connection's buffer:
 * the blob first, then cipherHash (known only once the blob was read; its length is known before),
 * then the other fields — the layout of the form-data package, which the Backbone accepts.
 */
function uploadBody(request: StreamedUploadFileRequest): { contentType: string; source: BodySource } {
  const boundary = `--------------------------${randomBytes(12).toString('hex')}`;
  const field = (name: string): string => `\r\n--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="content"; filename="cipher.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const hashHead = field('cipherHash');
  const rest =
    `${field('owner')}${request.owner}${field('ownerSignature')}${request.ownerSignature}${field('expiresAt')}${request.expiresAt}` +
    `${field('encryptedProperties')}${request.encryptedProperties}\r\n--${boundary}--\r\n`;
  const blob = request.content;
  const hashLength = blob.cipherHashLength ?? SHA512_BASE64URL_LENGTH;
  const source: BodySource = {
    length: head.length + blob.length + hashHead.length + hashLength + Buffer.byteLength(rest),
    open() {
      const reader = blob.open();
      // What is left to send, in order: the head, the blob, then the trailing fields.
      let pending = head;
      let stage: 'head' | 'blob' | 'tail' | 'done' = 'head';
      return {
        read(target) {
          let written = 0;
          while (written < target.length && stage !== 'done') {
            if (stage === 'blob') {
              const n = reader.read(target.subarray(written));
              written += n;
              if (n > 0) continue;
              const cipherHash = reader.cipherHash();
              if (Buffer.byteLength(cipherHash) !== hashLength) throw new Error(`a cipherHash of ${Buffer.byteLength(cipherHash)} bytes, not the ${hashLength} announced`);
              pending = Buffer.from(hashHead + cipherHash + rest);
              stage = 'tail';
              continue;
            }
            const n = pending.copy(target, written);
            written += n;
            pending = pending.subarray(n);
            if (pending.length === 0) stage = stage === 'head' ? 'blob' : 'done';
          }
          return written;
        },
      };
    },
  };
  return { contentType: `multipart/form-data; boundary=${boundary}`, source };
}

/** A sink keeping the body in one buffer: sized from the Content-Length, grown only without one. */
function collect(contentLength: number | undefined): BodySink<Buffer> {
  let body = Buffer.allocUnsafe(Math.min(contentLength ?? 0, 64 * 1024 * 1024));
  let length = 0;
  return {
    write(chunk) {
      if (length + chunk.length > body.length) {
        const grown = Buffer.allocUnsafe(Math.max(length + chunk.length, body.length * 2));
        body.copy(grown, 0, 0, length);
        body = grown;
      }
      length += chunk.copy(body, length);
    },
    end: () => body.subarray(0, length),
  };
}

function idsQuery(name: string, ids?: readonly string[]): URLSearchParams {
  const query = new URLSearchParams();
  for (const id of ids ?? []) query.append(name, id);
  return query;
}

export class PlatformClient {
  readonly http: HttpClient;
  readonly baseUrl: string;
  private readonly auth?: TokenManager;
  private readonly dwHeaders: Record<string, string>;
  private readonly pageSize: number;

  constructor(options: PlatformClientOptions) {
    this.http = new HttpClient(options);
    this.baseUrl = this.http.baseUrl;
    this.auth = options.login ? new TokenManager(this.http, options.login, options.now) : undefined;
    this.dwHeaders = { 'X-Supported-Datawallet-Version': String(options.datawalletVersion ?? 1) };
    this.pageSize = options.pageSize ?? 200;
  }

  /** Number of logins so far (tests, benchmarks). */
  get logins(): number {
    return this.auth?.logins ?? 0;
  }

  /** The SseServer's event stream of this device (events-stream.ts), logged in as this client; not started yet. */
  eventStream(options: Omit<EventStreamOptions, 'baseUrl' | 'auth'> = {}): EventStream {
    const auth = this.auth;
    if (!auth) {
      throw new PlatformError({ kind: 'authentication', code: 'error.client.noLogin', method: 'GET', path: '/api/v1/sse', message: 'the event stream needs a device login (username and password)' });
    }
    return new EventStream({ ...options, baseUrl: this.baseUrl, auth: { authorization: () => auth.authorization(), invalidate: (rejected) => auth.invalidate(rejected) } });
  }

  // --- plumbing ---------------------------------------------------------------------------------

  private anonymous<R>(spec: RequestSpec): Promise<R> {
    return this.http.request<R>(spec).then((r) => r.data);
  }

  /** An authenticated call; after a 401 the token is dropped and the call made once more. */
  private async authed<R>(spec: RequestSpec): Promise<{ status: number; data: R }> {
    if (!this.auth) {
      throw new PlatformError({
        kind: 'authentication',
        code: 'error.client.noLogin',
        method: spec.method.toUpperCase(),
        path: spec.path,
        message: 'this call needs a device login (username and password)',
      });
    }
    const authorization = await this.auth.authorization();
    try {
      return await this.http.request<R>(spec, authorization);
    } catch (error) {
      if (!(error instanceof PlatformError) || error.status !== 401) throw error;
      this.auth.invalidate(authorization);
      return this.http.request<R>(spec, await this.auth.authorization());
    }
  }

  private async call<R>(spec: RequestSpec): Promise<R> {
    return (await this.authed<R>(spec)).data;
  }

  /** Every item of a paged list, page by page (pagination is omitted by the Backbone for one page). */
  async *paged<R>(path: string, query = new URLSearchParams(), headers?: Record<string, string>): AsyncGenerator<R> {
    for (let page = 1; ; page++) {
      const q = new URLSearchParams(query);
      q.set('pageNumber', String(page));
      q.set('pageSize', String(this.pageSize));
      const { data } = await this.authed<{ result?: unknown; pagination?: T.Pagination }>({
        method: 'GET',
        path,
        query: q,
        headers,
        response: 'raw',
      });
      if (!data || !Array.isArray(data.result)) {
        throw new PlatformError({
          kind: 'malformedResponse',
          code: 'error.client.malformedResponse',
          method: 'GET',
          path,
          message: `GET ${path}: expected a list in "result"`,
        });
      }
      for (const item of data.result as R[]) yield item;
      if (!data.pagination || page >= data.pagination.totalPages) return;
    }
  }

  /** One page of a list: its items and the pagination (undefined when the whole list fits one page). */
  async page<R>(path: string, pageNumber: number, pageSize: number, query = new URLSearchParams()): Promise<{ items: R[]; pagination?: T.Pagination }> {
    const q = new URLSearchParams(query);
    q.set('pageNumber', String(pageNumber));
    q.set('pageSize', String(pageSize));
    const { data } = await this.authed<{ result?: unknown; pagination?: T.Pagination }>({ method: 'GET', path, query: q, response: 'raw' });
    if (!data || !Array.isArray(data.result)) {
      throw new PlatformError({
        kind: 'malformedResponse',
        code: 'error.client.malformedResponse',
        method: 'GET',
        path,
        message: `GET ${path}: expected a list in "result"`,
      });
    }
    return { items: data.result as R[], pagination: data.pagination };
  }

  /** A page of this identity's messages (sent and received, oldest first). */
  async messagesPage(pageNumber: number, pageSize: number): Promise<{ items: T.MessageDto[]; pagination?: T.Pagination }> {
    const page = await this.page<unknown>(`${API}/Messages`, pageNumber, pageSize);
    return { ...page, items: page.items.map((m) => checkMessage(m, { method: 'GET', path: `${API}/Messages` })) };
  }

  /** Shape-checks every item of a list as it arrives (see validate.ts). */
  private async *checked<R>(items: AsyncGenerator<unknown>, check: (value: unknown, where: { method: string; path: string }) => R, path: string): AsyncGenerator<R> {
    for await (const item of items) yield check(item, { method: 'GET', path });
  }

  async all<R>(iterable: AsyncIterable<R>): Promise<R[]> {
    const items: R[] = [];
    for await (const item of iterable) items.push(item);
    return items;
  }

  // --- version, challenges, identities, devices ---------------------------------------------------

  getVersion(): Promise<{ majorVersion: string }> {
    return this.anonymous({ method: 'GET', path: `${API}/Version` });
  }

  createChallenge(): Promise<T.ChallengeDto> {
    return this.anonymous({ method: 'POST', path: `${API}/Challenges`, body: {} });
  }

  createIdentity(request: T.CreateIdentityRequest): Promise<T.CreatedIdentityDto> {
    return this.anonymous({ method: 'POST', path: `${API}/Identities`, body: request });
  }

  getIdentity(): Promise<T.IdentityDto> {
    return this.call({ method: 'GET', path: `${API}/Identities/Self` });
  }

  async startDeletionProcess(lengthOfGracePeriodInDays?: number): Promise<T.DeletionProcessDto> {
    const body = lengthOfGracePeriodInDays === undefined ? {} : { lengthOfGracePeriodInDays };
    const path = `${API}/Identities/Self/DeletionProcesses`;
    return checkDeletionProcess(await this.call({ method: 'POST', path, body }), { method: 'POST', path });
  }

  deletionProcesses(): AsyncGenerator<T.DeletionProcessDto> {
    const path = `${API}/Identities/Self/DeletionProcesses`;
    return this.checked(this.paged(path), checkDeletionProcess, path);
  }

  async cancelDeletionProcess(id: string): Promise<T.DeletionProcessDto> {
    const path = `${API}/Identities/Self/DeletionProcesses/${seg(id)}/Cancel`;
    return checkDeletionProcess(await this.call({ method: 'PUT', path }), { method: 'PUT', path }, id);
  }

  getDevice(): Promise<T.DeviceDto> {
    return this.call({ method: 'GET', path: `${API}/Devices/Self` });
  }

  // --- sync runs and datawallet ---------------------------------------------------------------------

  async startSyncRun(type: 'ExternalEventSync' | 'DatawalletVersionUpgrade', durationSeconds?: number): Promise<T.StartSyncRunResult> {
    const body: Record<string, unknown> = { type };
    if (durationSeconds !== undefined) body.duration = durationSeconds;
    return this.call({ method: 'POST', path: `${API}/SyncRuns`, body, headers: this.dwHeaders });
  }

  getSyncRun(id: string): Promise<T.SyncRunDto> {
    return this.call({ method: 'GET', path: `${API}/SyncRuns/${seg(id)}`, headers: this.dwHeaders });
  }

  externalEvents(syncRunId: string): AsyncGenerator<T.ExternalEventDto> {
    return this.paged(`${API}/SyncRuns/${seg(syncRunId)}/ExternalEvents`, undefined, this.dwHeaders);
  }

  finalizeExternalEventSync(
    syncRunId: string,
    externalEventResults: T.ExternalEventResult[],
    datawalletModifications: T.DatawalletModificationInput[] = [],
  ): Promise<T.FinalizeSyncResult> {
    return this.call({
      method: 'PUT',
      path: `${API}/SyncRuns/${seg(syncRunId)}/FinalizeExternalEventSync`,
      body: { externalEventResults, datawalletModifications },
      headers: this.dwHeaders,
    });
  }

  finalizeDatawalletVersionUpgrade(
    syncRunId: string,
    newDatawalletVersion: number,
    datawalletModifications: T.DatawalletModificationInput[] = [],
  ): Promise<T.FinalizeSyncResult> {
    return this.call({
      method: 'PUT',
      path: `${API}/SyncRuns/${seg(syncRunId)}/FinalizeDatawalletVersionUpgrade`,
      body: { newDatawalletVersion, datawalletModifications },
      headers: this.dwHeaders,
    });
  }

  getDatawallet(): Promise<{ version: number }> {
    return this.call({ method: 'GET', path: `${API}/Datawallet`, headers: this.dwHeaders });
  }

  datawalletModifications(localIndex = -1): AsyncGenerator<T.DatawalletModificationDto> {
    return this.paged(`${API}/Datawallet/Modifications`, new URLSearchParams({ localIndex: String(localIndex) }), this.dwHeaders);
  }

  /** Compare-and-swap: fails with datawalletNotUpToDate unless `localIndex` is the latest index. */
  pushDatawalletModifications(localIndex: number, modifications: T.DatawalletModificationInput[]): Promise<T.PushModificationsResult> {
    return this.call({
      method: 'POST',
      path: `${API}/Datawallet/Modifications`,
      body: { localIndex, modifications },
      headers: this.dwHeaders,
    });
  }

  // --- relationship templates ---------------------------------------------------------------------

  createTemplate(request: T.CreateTemplateRequest): Promise<{ id: string; createdAt: string }> {
    return this.call({ method: 'POST', path: `${API}/RelationshipTemplates`, body: request });
  }

  /** Reads (and, for a peer, allocates) a template. `password`: standard base64 of the hash. */
  async getTemplate(id: string, password?: string): Promise<T.TemplateDto> {
    const query = password ? new URLSearchParams({ password }) : undefined;
    const path = `${API}/RelationshipTemplates/${seg(id)}`;
    return checkTemplate(await this.call({ method: 'GET', path, query }), { method: 'GET', path }, id);
  }

  templates(items: readonly { id: string; password?: string }[]): AsyncGenerator<T.TemplateDto> {
    const query = new URLSearchParams();
    items.forEach((item, i) => {
      query.append(`templates.${i}.id`, item.id);
      if (item.password) query.append(`templates.${i}.password`, item.password);
    });
    return this.checked(this.paged(`${API}/RelationshipTemplates`, query), checkTemplate, `${API}/RelationshipTemplates`);
  }

  async deleteTemplate(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `${API}/RelationshipTemplates/${seg(id)}`, idempotent: true });
  }

  // --- relationships ------------------------------------------------------------------------------

  canCreateRelationship(peer: string): Promise<T.CanCreateRelationshipDto> {
    return this.call({ method: 'GET', path: `${API}/Relationships/CanCreate`, query: new URLSearchParams({ peer }) });
  }

  async createRelationship(relationshipTemplateId: string, creationContent: string): Promise<T.RelationshipDto> {
    const path = `${API}/Relationships`;
    return checkRelationship(await this.call({ method: 'POST', path, body: { relationshipTemplateId, creationContent } }), { method: 'POST', path });
  }

  async getRelationship(id: string): Promise<T.RelationshipDto> {
    const path = `${API}/Relationships/${seg(id)}`;
    return checkRelationship(await this.call({ method: 'GET', path }), { method: 'GET', path }, id);
  }

  relationships(ids: readonly string[]): AsyncGenerator<T.RelationshipDto> {
    return this.checked(this.paged(`${API}/Relationships`, idsQuery('ids', ids)), checkRelationship, `${API}/Relationships`);
  }

  /** The records of these relationships by id, a hundred ids per request; records not asked for are dropped. */
  async relationshipsById(ids: readonly string[]): Promise<Map<string, T.RelationshipDto>> {
    const records = new Map<string, T.RelationshipDto>();
    for (let i = 0; i < ids.length; i += 100) {
      const wanted = new Set(ids.slice(i, i + 100));
      for await (const dto of this.relationships([...wanted])) if (wanted.has(dto.id)) records.set(dto.id, dto);
    }
    return records;
  }

  private async relationshipAction(id: string, action: string, body: unknown = {}): Promise<T.RelationshipDto> {
    const path = `${API}/Relationships/${seg(id)}/${action}`;
    return checkRelationship(await this.call({ method: 'PUT', path, body }), { method: 'PUT', path }, id);
  }

  acceptRelationship(id: string, creationResponseContent?: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Accept', creationResponseContent ? { creationResponseContent } : {});
  }
  rejectRelationship(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Reject');
  }
  revokeRelationship(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Revoke');
  }
  terminateRelationship(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Terminate');
  }
  requestReactivation(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Reactivate');
  }
  acceptReactivation(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Reactivate/Accept');
  }
  rejectReactivation(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Reactivate/Reject');
  }
  revokeReactivation(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Reactivate/Revoke');
  }
  decomposeRelationship(id: string): Promise<T.RelationshipDto> {
    return this.relationshipAction(id, 'Decompose');
  }

  // --- messages -----------------------------------------------------------------------------------

  sendMessage(request: T.SendMessageRequest): Promise<{ id: string; createdAt: string }> {
    return this.call({ method: 'POST', path: `${API}/Messages`, body: request });
  }

  /** Reading a message as a recipient marks it received. */
  async getMessage(id: string): Promise<T.MessageDto> {
    const path = `${API}/Messages/${seg(id)}`;
    return checkMessage(await this.call({ method: 'GET', path }), { method: 'GET', path }, id);
  }

  /** Own messages (sent and received), oldest first; with ids only those. */
  messages(ids?: readonly string[]): AsyncGenerator<T.MessageDto> {
    return this.checked(this.paged(`${API}/Messages`, idsQuery('ids', ids)), checkMessage, `${API}/Messages`);
  }

  // --- files --------------------------------------------------------------------------------------

  /** Uploads a file whose blob is in memory. */
  uploadFile(request: T.UploadFileRequest, timeoutMs = 120_000): Promise<T.FileMetadataDto> {
    const { content, cipherHash, ...fields } = request;
    return this.uploadFileStreamed({ ...fields, content: bufferedBlob(content, cipherHash) }, timeoutMs);
  }

  /**
   * Uploads a file whose blob is produced while it is sent (see BlobSource): no buffer of the blob
   * is needed, and producing it (encryption, encoding, hashing) overlaps with the transfer.
   */
  async uploadFileStreamed(request: StreamedUploadFileRequest, timeoutMs = 120_000): Promise<T.FileMetadataDto> {
    const { contentType, source } = uploadBody(request);
    const path = `${API}/Files`;
    return checkFileMetadata(await this.call({ method: 'POST', path, source, headers: { 'Content-Type': contentType }, timeoutMs }), { method: 'POST', path });
  }

  async getFileMetadata(id: string): Promise<T.FileMetadataDto> {
    const path = `${API}/Files/${seg(id)}/Metadata`;
    return checkFileMetadata(await this.call({ method: 'GET', path }), { method: 'GET', path }, id);
  }

  /** The encrypted blob, as the Backbone stores it, in one buffer sized from the Content-Length. */
  downloadFile(id: string, timeoutMs = 120_000): Promise<Buffer> {
    return this.downloadFileInto(id, collect, { timeoutMs });
  }

  /**
   * The encrypted blob, handed to `sink` as it arrives (a fresh sink per attempt; see BodySink):
   * whoever reads the blob anyway needs no copy of it. `expectedBytes`: its size if known (the
   * metadata's cipherSize), which lets a small blob use the shared connection.
   */
  downloadFileInto<R>(id: string, sink: (contentLength: number | undefined) => BodySink<R>, options: { expectedBytes?: number; timeoutMs?: number } = {}): Promise<R> {
    return this.call({ method: 'GET', path: `${API}/Files/${seg(id)}`, sink, expectedBytes: options.expectedBytes, timeoutMs: options.timeoutMs ?? 120_000 });
  }

  /** Files this identity uploaded. */
  files(ids?: readonly string[]): AsyncGenerator<T.FileMetadataDto> {
    return this.checked(this.paged(`${API}/Files`, idsQuery('ids', ids)), checkFileMetadata, `${API}/Files`);
  }

  async deleteFile(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `${API}/Files/${seg(id)}`, idempotent: true });
  }

  // --- tokens -------------------------------------------------------------------------------------

  createToken(request: T.CreateTokenRequest): Promise<{ id: string; createdAt: string }> {
    return this.call({ method: 'POST', path: `${API}/Tokens`, body: request });
  }

  /** Reads a token; works without a login. `password`: standard base64 of the hash. */
  async getToken(id: string, password?: string): Promise<T.TokenDto> {
    const spec: RequestSpec = { method: 'GET', path: `${API}/Tokens/${seg(id)}` };
    if (password) spec.query = new URLSearchParams({ password });
    return checkToken(await (this.auth ? this.call(spec) : this.anonymous(spec)), { method: 'GET', path: spec.path }, id);
  }

  tokens(ids: readonly string[]): AsyncGenerator<T.TokenDto> {
    return this.checked(this.paged(`${API}/Tokens`, idsQuery('ids', ids)), checkToken, `${API}/Tokens`);
  }

  async deleteToken(id: string): Promise<void> {
    await this.call({ method: 'DELETE', path: `${API}/Tokens/${seg(id)}`, idempotent: true });
  }
}
