/**
 * SQLite storage of the local Platform, synchronous, with nothing to compile at install time:
 *   - `node:sqlite` (DatabaseSync) where the running Node has it (Node >= 22.5 without a flag; n8n's Node 24),
 *   - the npm package `node-sqlite3-wasm` (SQLite compiled to WebAssembly, with real file access) elsewhere
 *     (Node 20). `PLATFORM_SQLITE=wasm` forces it on any Node (tests of the adapter).
 * One small adapter per backend below; the SQL is the same. `dataDir` undefined = in-memory database;
 * otherwise `<dataDir>/platform.sqlite`, which survives restarts (either backend opens the other's file).
 * Schema changes go in MIGRATIONS (append only); `PRAGMA user_version` records how many have run.
 *
 * Dates are stored as ISO strings (yyyy-MM-ddTHH:mm:ss.fffZ), so text comparison orders them; binary fields as
 * BLOBs. Both backends return BLOBs as Uint8Array: rows are handed out with Buffers instead (zero-copy views),
 * so callers can use Buffer methods (`equals`, `toString`) on them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE clients (client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, max_identities INTEGER, created_at TEXT NOT NULL);
  CREATE TABLE challenges (id TEXT PRIMARY KEY, expires_at TEXT NOT NULL, created_by TEXT, created_by_device TEXT);
  CREATE TABLE identities (
    address TEXT PRIMARY KEY, client_id TEXT NOT NULL, public_key BLOB NOT NULL, identity_version INTEGER NOT NULL,
    tier_id TEXT NOT NULL, status TEXT NOT NULL, deletion_grace_period_ends_at TEXT, created_at TEXT NOT NULL,
    datawallet_version INTEGER, next_event_index INTEGER NOT NULL DEFAULT 0, next_sync_run_index INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE devices (
    id TEXT PRIMARY KEY, address TEXT NOT NULL, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by_device TEXT NOT NULL, last_login TEXT, communication_language TEXT NOT NULL,
    is_backup_device INTEGER NOT NULL DEFAULT 0, failed_logins INTEGER NOT NULL DEFAULT 0, lockout_until TEXT,
    push_handle TEXT, push_identifier TEXT);
  CREATE INDEX devices_address ON devices(address);
  CREATE TABLE deletion_processes (
    id TEXT PRIMARY KEY, address TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    created_by_device TEXT NOT NULL, grace_period_ends_at TEXT, cancelled_at TEXT);
  CREATE TABLE datawallet_modifications (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, idx INTEGER NOT NULL, datawallet_version INTEGER NOT NULL,
    object_identifier TEXT NOT NULL, payload_category TEXT, collection TEXT NOT NULL, type TEXT NOT NULL,
    encrypted_payload BLOB, created_at TEXT NOT NULL, created_by_device TEXT NOT NULL, UNIQUE(owner, idx));
  CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, idx INTEGER NOT NULL, type TEXT NOT NULL, expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by_device TEXT NOT NULL, event_count INTEGER NOT NULL, finalized_at TEXT,
    UNIQUE(owner, idx));
  CREATE TABLE external_events (
    id TEXT PRIMARY KEY, owner TEXT NOT NULL, idx INTEGER NOT NULL, type TEXT NOT NULL, payload TEXT NOT NULL,
    created_at TEXT NOT NULL, sync_run_id TEXT, sync_error_count INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0, relationship_id TEXT, UNIQUE(owner, idx));
  CREATE INDEX external_events_owner ON external_events(owner, sync_run_id);
  CREATE TABLE templates (
    id TEXT PRIMARY KEY, created_by TEXT NOT NULL, created_by_device TEXT NOT NULL, max_allocations INTEGER,
    expires_at TEXT, content BLOB, created_at TEXT NOT NULL, for_identity TEXT, password BLOB);
  CREATE TABLE template_allocations (
    template_id TEXT NOT NULL, allocated_by TEXT NOT NULL, allocated_by_device TEXT NOT NULL, allocated_at TEXT NOT NULL,
    PRIMARY KEY(template_id, allocated_by));
  CREATE TABLE relationships (
    id TEXT PRIMARY KEY, template_id TEXT, from_address TEXT NOT NULL, to_address TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, creation_content BLOB, creation_response_content BLOB,
    from_decomposed INTEGER NOT NULL DEFAULT 0, to_decomposed INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX relationships_from ON relationships(from_address);
  CREATE INDEX relationships_to ON relationships(to_address);
  CREATE TABLE relationship_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, relationship_id TEXT NOT NULL, created_at TEXT NOT NULL,
    created_by TEXT NOT NULL, created_by_device TEXT NOT NULL, reason TEXT NOT NULL, old_status TEXT, new_status TEXT NOT NULL);
  CREATE INDEX relationship_audit_rel ON relationship_audit(relationship_id);
  CREATE TABLE messages (
    id TEXT PRIMARY KEY, created_by TEXT NOT NULL, created_by_device TEXT NOT NULL, body BLOB NOT NULL,
    created_at TEXT NOT NULL, attachments TEXT NOT NULL);
  CREATE INDEX messages_created_by ON messages(created_by);
  CREATE TABLE message_recipients (
    message_id TEXT NOT NULL, position INTEGER NOT NULL, address TEXT NOT NULL, encrypted_key BLOB NOT NULL,
    received_at TEXT, received_by_device TEXT, relationship_id TEXT NOT NULL, PRIMARY KEY(message_id, position));
  CREATE INDEX message_recipients_address ON message_recipients(address);
  CREATE TABLE files (
    id TEXT PRIMARY KEY, created_by TEXT NOT NULL, created_by_device TEXT NOT NULL, created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL, modified_by TEXT NOT NULL, modified_by_device TEXT NOT NULL,
    deleted_at TEXT, deleted_by TEXT, deleted_by_device TEXT, owner TEXT NOT NULL, owner_signature BLOB NOT NULL,
    ownership_token TEXT NOT NULL, ownership_locked INTEGER NOT NULL DEFAULT 0, cipher_size INTEGER NOT NULL,
    cipher_hash BLOB NOT NULL, content BLOB, expires_at TEXT NOT NULL, encrypted_properties BLOB NOT NULL);
  CREATE INDEX files_created_by ON files(created_by);
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY, created_by TEXT, created_by_device TEXT, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    content BLOB, for_identity TEXT, password BLOB, failed_attempts INTEGER NOT NULL DEFAULT 0);
  CREATE TABLE token_allocations (token_id TEXT NOT NULL, address TEXT NOT NULL, device TEXT, allocated_at TEXT NOT NULL,
    PRIMARY KEY(token_id, address));
  `,
  // Datawallet reads return only the newest modification per (objectIdentifier, type, payloadCategory).
  // A newer one always has a higher index, so "newest in the range index > localIndex" is "newest of
  // all": each row carries whether a newer one has replaced it, kept up to date on insert, and reads
  // walk the index of the rows still current (domain/datawallet.ts).
  `
  ALTER TABLE datawallet_modifications ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;
  UPDATE datawallet_modifications SET superseded = 1 WHERE id IN (
    SELECT id FROM (
      SELECT id, ROW_NUMBER() OVER (PARTITION BY owner, object_identifier, type, payload_category ORDER BY idx DESC) AS rank
      FROM datawallet_modifications)
    WHERE rank > 1);
  CREATE INDEX datawallet_modifications_key ON datawallet_modifications(owner, object_identifier, type, payload_category)
    WHERE superseded = 0;
  CREATE INDEX datawallet_modifications_current ON datawallet_modifications(owner, idx) WHERE superseded = 0;
  `,
  // A device's push registration names its platform (fcm, apns, dummy, sse): only `sse` is delivered.
  `
  ALTER TABLE devices ADD COLUMN push_platform TEXT;
  `,
  // Every send counts the sender's unreceived messages to each recipient (the Backbone's limit): this keeps that
  // count to the few unreceived entries of the recipient instead of all it ever got.
  `
  CREATE INDEX message_recipients_unreceived ON message_recipients(address) WHERE received_at IS NULL;
  `,
];

export type Row = Record<string, unknown>;

export interface RunResult {
  changes: number;
}

/** What PlatformDb needs from a SQLite binding. */
interface Statement {
  get(params: unknown[]): Row | undefined;
  all(params: unknown[]): Row[];
  run(params: unknown[]): RunResult;
  finalize(): void;
}

interface Backend {
  readonly name: BackendName;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  close(): void;
}

export type BackendName = 'node:sqlite' | 'node-sqlite3-wasm';

/** node:sqlite's DatabaseSync, typed here (@types/node 20 does not know the module). */
interface NodeSqliteStatement {
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
  run(...params: unknown[]): { changes: number | bigint };
}
interface NodeSqliteDatabase {
  prepare(sql: string): NodeSqliteStatement;
  exec(sql: string): void;
  close(): void;
}
type NodeSqliteModule = { DatabaseSync: new (path: string) => NodeSqliteDatabase };

/** node-sqlite3-wasm's Database (its own typings declare the module globally; only what we use). */
interface WasmStatement {
  get(values?: unknown[]): Row | null;
  all(values?: unknown[]): Row[];
  run(values?: unknown[]): { changes: number };
  finalize(): void;
  readonly isFinalized: boolean;
  /** Internal (version pinned in package.json): sqlite3_clear_bindings + sqlite3_reset. */
  _reset?: () => boolean;
}
interface WasmDatabase {
  prepare(sql: string): WasmStatement;
  exec(sql: string): void;
  close(): void;
  readonly isOpen: boolean;
}
type WasmModule = { Database: new (path: string) => WasmDatabase };

/** node:sqlite when this Node has it without a flag, else undefined. */
function nodeSqlite(): NodeSqliteModule | undefined {
  if (process.env.PLATFORM_SQLITE === 'wasm') return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node:sqlite') as NodeSqliteModule;
  } catch {
    return undefined; // Node < 22.5, or 22.5–22.12 without --experimental-sqlite
  }
}

export function availableBackend(): BackendName {
  return nodeSqlite() ? 'node:sqlite' : 'node-sqlite3-wasm';
}

/** Uint8Array values (BLOBs) as Buffers over the same memory. */
function withBuffers(row: Row): Row {
  for (const key of Object.keys(row)) {
    const v = row[key];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[key] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

function openNodeSqlite(mod: NodeSqliteModule, file: string): Backend {
  const db = new mod.DatabaseSync(file);
  return {
    name: 'node:sqlite',
    prepare(sql) {
      const s = db.prepare(sql);
      return {
        get: (params) => {
          const row = s.get(...params);
          return row ? withBuffers(row) : undefined;
        },
        all: (params) => s.all(...params).map(withBuffers),
        run: (params) => ({ changes: Number(s.run(...params).changes) }),
        finalize: () => undefined, // garbage-collected
      };
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
}

function openWasm(file: string): Backend {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Database } = require('node-sqlite3-wasm') as WasmModule;
  const db = new Database(file);
  const statements = new Set<WasmStatement>();
  // Its get() leaves the statement active (reset only at the next bind), which keeps a read open on the
  // tables and blocks schema changes; and bound values (file contents) would stay in the WebAssembly heap.
  // So every call resets its statement at once, as node:sqlite and better-sqlite3 do.
  const once = <T>(s: WasmStatement, fn: () => T): T => {
    try {
      return fn();
    } finally {
      s._reset?.();
    }
  };
  return {
    name: 'node-sqlite3-wasm',
    prepare(sql) {
      const s = db.prepare(sql);
      statements.add(s);
      return {
        get: (params) =>
          once(s, () => {
            const row = s._reset ? s.get(params) : (s.all(params)[0] ?? null);
            return row ? withBuffers(row) : undefined;
          }),
        all: (params) => once(s, () => s.all(params).map(withBuffers)),
        run: (params) => once(s, () => ({ changes: s.run(params).changes })),
        finalize: () => {
          statements.delete(s);
          if (!s.isFinalized) s.finalize();
        },
      };
    },
    exec: (sql) => db.exec(sql),
    close: () => {
      // Its statements live in the WebAssembly heap: finalize them, or closing leaks them.
      for (const s of statements) if (!s.isFinalized) s.finalize();
      statements.clear();
      if (db.isOpen) db.close();
    },
  };
}

export class PlatformDb {
  /** Which SQLite binding this database runs on. */
  readonly backend: BackendName;
  private readonly sqlite: Backend;
  private readonly cache = new Map<string, Statement>();
  private depth = 0;
  private afterCommit: (() => void)[] = [];
  private open = true;

  get isOpen(): boolean {
    return this.open;
  }

  constructor(dataDir?: string) {
    let file = ':memory:';
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      file = join(dataDir, 'platform.sqlite');
    }
    const mod = nodeSqlite();
    this.sqlite = mod ? openNodeSqlite(mod, file) : openWasm(file);
    this.backend = this.sqlite.name;
    if (dataDir) {
      // A rollback journal on both backends, so either opens the other's file: the WebAssembly file layer
      // has no shared memory for WAL. In exclusive locking mode it can still open a WAL file (as written
      // by earlier versions with better-sqlite3), which the journal_mode line then converts.
      if (this.backend === 'node-sqlite3-wasm') this.sqlite.exec('PRAGMA locking_mode = EXCLUSIVE');
      this.sqlite.exec('PRAGMA journal_mode = TRUNCATE');
      this.sqlite.exec('PRAGMA synchronous = NORMAL');
    }
    this.migrate();
  }

  private migrate(): void {
    const current = Number(this.get<{ user_version: number }>('PRAGMA user_version')?.user_version ?? 0);
    for (let i = current; i < MIGRATIONS.length; i++) {
      this.tx(() => {
        this.sqlite.exec(MIGRATIONS[i]);
        this.sqlite.exec(`PRAGMA user_version = ${i + 1}`);
      });
    }
  }

  private stmt(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.sqlite.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  get<T = Row>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(params) as T | undefined;
  }

  all<T = Row>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(params) as T[];
  }

  run(sql: string, ...params: unknown[]): RunResult {
    return this.stmt(sql).run(params);
  }

  /**
   * Runs `fn` in a transaction (a savepoint when nested) and commits, or rolls back and rethrows. `fn` must be
   * synchronous: a transaction cannot span an await.
   */
  tx<T>(fn: () => T): T {
    const depth = this.depth;
    const mark = this.afterCommit.length;
    this.sqlite.exec(depth === 0 ? 'BEGIN' : `SAVEPOINT tx${depth}`);
    this.depth++;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) throw new TypeError('PlatformDb.tx: the transaction function returned a promise');
    } catch (e) {
      this.depth--;
      if (depth === 0) this.sqlite.exec('ROLLBACK');
      else this.sqlite.exec(`ROLLBACK TO tx${depth}; RELEASE tx${depth}`);
      this.afterCommit.length = mark;
      throw e;
    }
    this.depth--;
    if (depth > 0) {
      this.sqlite.exec(`RELEASE tx${depth}`);
      return result;
    }
    this.sqlite.exec('COMMIT');
    const callbacks = this.afterCommit;
    this.afterCommit = [];
    for (const cb of callbacks) cb();
    return result;
  }

  /** Runs `fn` once the current transaction commits (dropped if it rolls back); at once outside a transaction. */
  onCommit(fn: () => void): void {
    if (this.depth === 0) fn();
    else this.afterCommit.push(fn);
  }

  meta(key: string): string | undefined {
    return this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.run('INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    for (const s of this.cache.values()) s.finalize();
    this.cache.clear();
    this.sqlite.close();
  }
}
