/**
 * enmeshed local Platform: an emulator of the enmeshed Backbone Consumer API v2 (see
 * /work/shared/enmeshed/backbone-api.md) over node:http on loopback, with SQLite storage.
 *
 * Routes (matching ignores case; all under /api/v2 unless noted):
 *   POST /connect/token                                   password grant (OAuth JSON errors, bare 401 elsewhere)
 *   GET  Version, Tags (ETag/304), Announcements;  GET /api/poc/PublicRelationshipTemplateReferences;  GET /r/{id}
 *   POST Challenges (anon or auth), GET Challenges/{id}
 *   POST Identities, GET Identities/Self, GET Identities/IsDeleted,
 *   POST/GET Identities/Self/DeletionProcesses, GET …/{id}, PUT …/{id}/Cancel
 *   GET/PUT Devices/Self, PUT Devices/Self/Password, POST Devices, GET Devices, DELETE Devices/{id},
 *   PUT/DELETE Devices/Self/PushNotifications
 *   GET Datawallet, GET/POST Datawallet/Modifications
 *   POST SyncRuns, GET SyncRuns/{id}, PUT SyncRuns/{id}/RefreshExpirationTime, GET SyncRuns/{id}/ExternalEvents,
 *   PUT SyncRuns/{id}/FinalizeExternalEventSync, PUT SyncRuns/{id}/FinalizeDatawalletVersionUpgrade
 *   POST/GET RelationshipTemplates, GET/DELETE RelationshipTemplates/{id}
 *   GET Relationships/CanCreate, POST/GET Relationships, GET Relationships/{id},
 *   PUT Relationships/{id}/{Accept|Reject|Revoke|Terminate|Reactivate|Reactivate/Accept|Reactivate/Reject|Reactivate/Revoke|Decompose}
 *   POST/GET Messages, GET Messages/{id}
 *   POST/GET Files, GET/DELETE Files/{id}, GET Files/{id}/Metadata, POST Files/{id}/ValidateOwnershipToken,
 *   PATCH Files/{id}/ClaimOwnership, PATCH Files/{id}/RegenerateOwnershipToken
 *   POST/GET Tokens, GET/DELETE Tokens/{id}, POST Tokens/{id}/UpdateContent
 *   POST Notifications (validated, then dropped: no push delivery)
 *   GET /api/v1/sse and /api/v2/sse: the SSE server's event stream (routes/sse.ts)
 *   /admin/clients (POST/GET/DELETE, X-Admin-Key; see routes/admin.ts)
 *
 * Deliberate deviations / simplifications:
 *   - External events are produced synchronously (the real server needs up to a few hundred ms).
 *   - Identity deletion: processes start/cancel and notify peers, but the grace period never runs out
 *     (no PeerDeleted, no anonymisation of deleted identities).
 *   - RegenerateOwnershipToken persists the new token and unlocks (the real handler apparently does not).
 *   - Quota usage is counted on demand from stored records; quota rules are global or per address.
 *   - Too large bodies answer 400 requestBodyTooLarge after draining the upload (never 413).
 *   - Push notifications only over SSE, and only ExternalEventCreated and DatawalletModificationsCreated
 *     (domain/push.ts); announcements are always empty, Tags is a fixed minimal document.
 *   - Errors out of our own bugs answer 500 error.platform.unexpected and are logged to stderr.
 *   - Extras for tests: advanceClock(ms), setFaults(hook), setQuotas(rules), configure(partial config),
 *     backdateMessage(id, createdAt).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PlatformDb } from './db';
import { DEFAULT_CONFIG, Platform, type FaultHook, type PlatformConfig, type QuotaRule } from './core';
import { Router } from './http/router';
import { registerConnect } from './routes/connect';
import { registerChallenges } from './routes/challenges';
import { registerIdentities } from './routes/identities';
import { registerDevices } from './routes/devices';
import { registerDatawallet } from './routes/datawallet';
import { registerSyncRuns } from './routes/syncRuns';
import { registerRelationshipTemplates } from './routes/relationshipTemplates';
import { registerRelationships } from './routes/relationships';
import { registerMessages } from './routes/messages';
import { registerFiles } from './routes/files';
import { registerTokens } from './routes/tokens';
import { registerMisc } from './routes/misc';
import { registerAdmin, upsertClient } from './routes/admin';
import { registerSse } from './routes/sse';

export type { QuotaRule, QuotaMetric, QuotaPeriod, FaultHook, FaultAction, PlatformConfig } from './core';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** Max identities this client may create (undefined = unlimited). */
  maxIdentities?: number;
}

export interface PlatformOptions extends Partial<Omit<PlatformConfig, 'didDomain'>> {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /**
   * Address to listen on. Default: loopback only (127.0.0.1, and ::1 on the same port where possible). Another
   * address (e.g. 0.0.0.0) opens the Platform to other machines; its addresses still use the domain `localhost`.
   */
  host?: string;
  /** Folder for platform.sqlite; undefined = in-memory (state is lost on close). */
  dataDir?: string;
  /** OAuth clients registered (upserted) at start. Default: [{clientId:'test', clientSecret:'test'}]. */
  clients?: OAuthClient[];
}

export interface PlatformHandle {
  /** Always http://localhost:<port>: addresses are derived from the hostname `localhost`. */
  readonly baseUrl: string;
  readonly port: number;
  /** The live configuration (mutations take effect on the next request). */
  readonly config: PlatformConfig;
  close(): Promise<void>;
  addClient(clientId: string, clientSecret: string, maxIdentities?: number): void;
  removeClient(clientId: string): void;
  setQuotas(rules: QuotaRule[]): void;
  setFaults(hook: FaultHook | undefined): void;
  configure(partial: Partial<Omit<PlatformConfig, 'didDomain'>>): void;
  /** Moves the Platform's clock forward (expiry of tokens, templates, sync runs, files …). */
  advanceClock(ms: number): void;
  /**
   * Gives a stored message an earlier createdAt: the Backbone stamps a message when the request
   * arrives and commits it later, so one listed after others may be older than them ("visible late").
   * The emulator stamps and commits at once; tests of the trigger's look-back use this instead.
   */
  backdateMessage(id: string, createdAt: string): void;
}

export function createRouter(): Router {
  const router = new Router();
  registerConnect(router);
  registerMisc(router);
  registerChallenges(router);
  registerIdentities(router);
  registerDevices(router);
  registerDatawallet(router);
  registerSyncRuns(router);
  registerRelationshipTemplates(router);
  registerRelationships(router);
  registerMessages(router);
  registerFiles(router);
  registerTokens(router);
  registerAdmin(router);
  registerSse(router);
  return router;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export async function startPlatform(options: PlatformOptions = {}): Promise<PlatformHandle> {
  const { port: wantedPort = 0, host, dataDir, clients, ...rest } = options;
  const config: PlatformConfig = { ...DEFAULT_CONFIG, ...stripUndefined(rest), didDomain: 'localhost' };
  const db = new PlatformDb(dataDir);
  const platform = new Platform(db, config);
  for (const c of clients ?? [{ clientId: 'test', clientSecret: 'test' }]) upsertClient(platform, c.clientId, c.clientSecret, c.maxIdentities ?? null);

  const router = createRouter();
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    router.handle(platform, req, res).catch((e: unknown) => {
      console.error('[platform] handler crashed', e);
      if (!res.headersSent) {
        res.writeHead(500);
        res.end();
      }
    });
  };
  const servers: Server[] = [];
  // Keep idle connections as long as the Backbone's Kestrel does (130 s). Node's default of 5 s
  // closes a pooled socket while a slow client (e.g. transport encrypting 7 MiB) is about to reuse
  // it, and the client then sees ECONNRESET — a fault of the emulator, not of the client.
  const configure = (server: Server): Server => {
    server.keepAliveTimeout = 130_000;
    server.headersTimeout = 131_000;
    return server;
  };
  const main = configure(createServer({ maxHeaderSize: 64 * 1024 }, handler));
  try {
    await listen(main, wantedPort, host ?? '127.0.0.1');
  } catch (e) {
    db.close();
    throw e;
  }
  servers.push(main);
  const port = (main.address() as AddressInfo).port;
  // `localhost` may resolve to ::1 first on some systems; serve IPv6 loopback on the same port when possible
  // (unless a specific address was asked for).
  if (host === undefined || host === '0.0.0.0') {
    const v6 = configure(createServer({ maxHeaderSize: 64 * 1024 }, handler));
    await listen(v6, port, '::1').then(
      () => servers.push(v6),
      () => undefined,
    );
  }

  let closed = false;
  return {
    baseUrl: `http://localhost:${port}`,
    port,
    config,
    async close() {
      if (closed) return;
      closed = true;
      platform.sse.shutdown();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      db.close();
    },
    addClient(clientId, clientSecret, maxIdentities) {
      upsertClient(platform, clientId, clientSecret, maxIdentities ?? null);
    },
    removeClient(clientId) {
      db.run('DELETE FROM clients WHERE client_id = ?', clientId);
    },
    setQuotas(rules) {
      config.quotas = [...rules];
    },
    setFaults(hook) {
      config.faults = hook;
    },
    configure(partial) {
      Object.assign(config, stripUndefined(partial), { didDomain: 'localhost' });
    },
    advanceClock(ms) {
      platform.clockOffsetMs += ms;
    },
    backdateMessage(id, createdAt) {
      if (db.run('UPDATE messages SET created_at = ? WHERE id = ?', new Date(createdAt).toISOString(), id).changes !== 1) throw new Error(`no message ${id}`);
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
