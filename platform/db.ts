/**
 * SQLite storage of the local Platform (better-sqlite3, synchronous). `dataDir` undefined = in-memory database;
 * otherwise `<dataDir>/platform.sqlite`, which survives restarts. Schema changes go in MIGRATIONS (append only);
 * `PRAGMA user_version` records how many have run.
 *
 * Dates are stored as ISO strings (yyyy-MM-ddTHH:mm:ss.fffZ), so text comparison orders them; binary fields as BLOBs.
 */
import Database from 'better-sqlite3';
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
];

export type Row = Record<string, unknown>;

export class PlatformDb {
  readonly sqlite: Database.Database;
  private readonly cache = new Map<string, Database.Statement>();

  constructor(dataDir?: string) {
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      this.sqlite = new Database(join(dataDir, 'platform.sqlite'));
      this.sqlite.pragma('journal_mode = WAL');
      this.sqlite.pragma('synchronous = NORMAL');
    } else {
      this.sqlite = new Database(':memory:');
    }
    this.migrate();
  }

  private migrate(): void {
    const current = this.sqlite.pragma('user_version', { simple: true }) as number;
    for (let i = current; i < MIGRATIONS.length; i++) {
      this.sqlite.transaction(() => {
        this.sqlite.exec(MIGRATIONS[i]);
        this.sqlite.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.sqlite.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  get<T = Row>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T = Row>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.stmt(sql).run(...params);
  }

  tx<T>(fn: () => T): T {
    return this.sqlite.transaction(fn)();
  }

  meta(key: string): string | undefined {
    return this.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.run('INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }
}
