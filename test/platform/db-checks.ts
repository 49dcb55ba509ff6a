/**
 * What the local Platform expects of its SQLite adapter (platform/db.ts), as a list of failed checks
 * (empty = all good). Used in-process by db.test.ts, and run as a program on another Node to check
 * the other backend:
 *
 *   node -r ts-node/register/transpile-only test/platform/db-checks.ts   → prints {"backend", "failures"}
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlatformDb } from '../../platform/db';

export function runDbChecks(): { backend: string; failures: string[] } {
  const failures: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) failures.push(what);
  };
  const dir = mkdtempSync(join(tmpdir(), 'platform-db-'));
  let backend = '';
  try {
    const db = new PlatformDb();
    backend = db.backend;
    db.run('CREATE TABLE t (k TEXT PRIMARY KEY, b BLOB, n INTEGER)');

    // BLOBs come back as Buffers with the same bytes; empty stays empty (not NULL), NULL stays null.
    db.run('INSERT INTO t VALUES (?, ?, ?)', 'a', Buffer.from([1, 2, 3]), 1);
    db.run('INSERT INTO t VALUES (?, ?, ?)', 'empty', Buffer.alloc(0), 2);
    db.run('INSERT INTO t VALUES (?, ?, ?)', 'null', null, 3);
    const a = db.get<{ b: Buffer }>('SELECT b FROM t WHERE k = ?', 'a')?.b;
    check(Buffer.isBuffer(a) && a.equals(Buffer.from([1, 2, 3])), 'BLOB read back as an equal Buffer');
    const empty = db.get<{ b: Buffer | null }>('SELECT b FROM t WHERE k = ?', 'empty')?.b;
    check(Buffer.isBuffer(empty) && empty.length === 0, 'empty BLOB read back as an empty Buffer');
    check(db.get<{ b: unknown }>('SELECT b FROM t WHERE k = ?', 'null')?.b === null, 'NULL read back as null');
    check(db.all('SELECT b FROM t ORDER BY n').every((r, i) => (i === 2 ? r.b === null : Buffer.isBuffer(r.b))), 'all() converts BLOBs too');
    check(db.get('SELECT b FROM t WHERE k = ?', 'missing') === undefined, 'get() of no row is undefined');
    // A get() of the first of several rows leaves no statement running (which would block schema changes).
    db.run('CREATE INDEX t_n ON t(n)');
    db.get('SELECT k FROM t ORDER BY n');
    try {
      db.run('DROP INDEX t_n');
    } catch (e) {
      failures.push(`a schema change after get(): ${(e as Error).message}`);
    }

    // changes
    check(db.run('UPDATE t SET n = n + 10 WHERE n < 3').changes === 2, 'run().changes counts updated rows');
    check(db.run('DELETE FROM t WHERE k = ?', 'missing').changes === 0, 'run().changes is 0 when nothing matched');

    // Transactions: commit, rollback on throw, nested savepoints, after-commit callbacks, no promises.
    const calls: string[] = [];
    db.tx(() => {
      db.run('INSERT INTO t VALUES (?, NULL, 0)', 'tx1');
      db.onCommit(() => calls.push('committed'));
      check(calls.length === 0, 'onCommit waits for the commit');
    });
    check(db.get('SELECT k FROM t WHERE k = ?', 'tx1') !== undefined && calls.join() === 'committed', 'tx commits and runs onCommit');
    try {
      db.tx(() => {
        db.run('INSERT INTO t VALUES (?, NULL, 0)', 'tx2');
        db.onCommit(() => calls.push('rolled back'));
        throw new Error('boom');
      });
    } catch {
      // expected
    }
    check(db.get('SELECT k FROM t WHERE k = ?', 'tx2') === undefined, 'tx rolls back on throw');
    check(!calls.includes('rolled back'), 'onCommit of a rolled-back tx never runs');
    db.tx(() => {
      db.run('INSERT INTO t VALUES (?, NULL, 0)', 'outer');
      try {
        db.tx(() => {
          db.run('INSERT INTO t VALUES (?, NULL, 0)', 'inner');
          db.onCommit(() => calls.push('inner'));
          throw new Error('inner fails');
        });
      } catch {
        // the outer transaction goes on
      }
      db.tx(() => db.run('INSERT INTO t VALUES (?, NULL, 0)', 'inner2'));
    });
    check(db.get('SELECT k FROM t WHERE k = ?', 'outer') !== undefined, 'outer tx commits after a failed nested one');
    check(db.get('SELECT k FROM t WHERE k = ?', 'inner') === undefined, 'failed nested tx is rolled back');
    check(db.get('SELECT k FROM t WHERE k = ?', 'inner2') !== undefined, 'nested tx commits with the outer one');
    check(!calls.includes('inner'), 'onCommit of a failed nested tx never runs');
    let refused = false;
    try {
      db.tx(() => Promise.resolve(db.run('INSERT INTO t VALUES (?, NULL, 0)', 'async')));
    } catch {
      refused = true;
    }
    check(refused && db.get('SELECT k FROM t WHERE k = ?', 'async') === undefined, 'tx refuses (and rolls back) an async function');
    check(db.run('INSERT INTO t VALUES (?, NULL, 0)', 'after').changes === 1, 'usable after all that');

    // In-memory databases are separate.
    const other = new PlatformDb();
    check(other.get("SELECT name FROM sqlite_master WHERE name = 't'") === undefined, 'two in-memory databases share nothing');
    other.close();
    db.close();
    db.close(); // twice is fine

    // A data folder survives a close; migrations run once.
    const data = join(dir, 'data');
    const first = new PlatformDb(data);
    first.setMeta('probe', 'kept');
    first.run("INSERT INTO clients(client_id, client_secret, created_at) VALUES('c', 's', 'now')");
    const version = first.get<{ user_version: number }>('PRAGMA user_version')?.user_version;
    first.close();
    const second = new PlatformDb(data);
    check(second.meta('probe') === 'kept', 'a data folder survives a restart');
    check(second.get<{ user_version: number }>('PRAGMA user_version')?.user_version === version, 'migrations do not run twice');
    second.close();

    // A WAL-mode file (what better-sqlite3 wrote before) opens, keeps its data and is converted.
    const file = join(data, 'platform.sqlite');
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.from([2, 2]), 0, 2, 18); // file format read/write versions 2 = WAL
    closeSync(fd);
    const third = new PlatformDb(data);
    check(third.meta('probe') === 'kept', 'a WAL-mode database file opens with its data');
    check(third.get<{ journal_mode: string }>('PRAGMA journal_mode')?.journal_mode === 'truncate', 'a WAL-mode file is converted to a rollback journal');
    third.close();
  } catch (e) {
    failures.push(`threw: ${(e as Error).stack ?? String(e)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { backend, failures };
}

if (require.main === module) process.stdout.write(`${JSON.stringify(runDbChecks())}\n`);
