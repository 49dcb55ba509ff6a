/**
 * What n8n itself recorded, read from its PostgreSQL database with the `pg` and `flatted` modules
 * of the n8n install (the same ones n8n writes with):
 *  - the receiver workflow's executions: the items its trigger emitted. In queue mode the poll runs
 *    on main, which stores the emitted items with the new execution (status "new") before a worker
 *    picks it up, so they are there even when the worker dies; after a run they are the trigger's
 *    run data.
 *  - the workflow's static data (the trigger's cursor).
 *  - execution counts per workflow and status.
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';

interface PgClient {
  connect(): Promise<void>;
  query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
  end(): Promise<void>;
}

export interface Emission {
  execution: string;
  status: string;
  /** When main created the execution, i.e. when the poll emitted. */
  createdAt: Date;
  /** Message ids the trigger emitted into this execution (error items included). */
  ids: string[];
  /** Ids of error items (messages the trigger could not open). */
  errors: string[];
}

interface NodeRun {
  data?: { main?: ({ json?: Record<string, unknown> }[] | null)[] };
}
interface RunData {
  resultData?: { runData?: Record<string, NodeRun[]> };
  executionData?: { nodeExecutionStack?: { node?: { name?: string }; data?: { main?: ({ json?: Record<string, unknown> }[] | null)[] } }[] };
}

/** An execution row as n8n stores it: `data` is the flatted run data. */
export interface ExecutionRow {
  id: string | number;
  status: string;
  createdAt: Date | string;
  data: string | null;
}

/** The items `triggerNode` emitted into each execution: its run data, or the stack of one that never ran. */
export function emissionsOf(rows: ExecutionRow[], parse: (text: string) => unknown, triggerNode: string): Emission[] {
  return rows.map((row) => {
    const ids = new Set<string>();
    const errors = new Set<string>();
    if (row.data) {
      const data = parse(row.data) as RunData;
      const add = (main?: ({ json?: Record<string, unknown> }[] | null)[]) => {
        for (const item of main?.[0] ?? []) {
          if (typeof item?.json?.id !== 'string') continue;
          ids.add(item.json.id);
          if (item.json.error !== undefined) errors.add(item.json.id);
        }
      };
      for (const run of data.resultData?.runData?.[triggerNode] ?? []) add(run.data?.main);
      for (const entry of data.executionData?.nodeExecutionStack ?? []) if (entry.node?.name === triggerNode) add(entry.data?.main);
    }
    return { execution: String(row.id), status: row.status, createdAt: new Date(row.createdAt), ids: [...ids], errors: [...errors] };
  });
}

export class N8nDatabase {
  private readonly client: PgClient;
  private readonly parse: (text: string) => unknown;

  constructor(n8nNodeModules: string, connection: { host: string; port: number; user: string; database: string }) {
    const require = createRequire(path.join(n8nNodeModules, 'n8n', 'package.json'));
    const { Client } = require('pg') as { Client: new (options: unknown) => PgClient };
    this.parse = (require('flatted') as { parse: (text: string) => unknown }).parse;
    this.client = new Client({ ...connection, password: '' });
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  close(): Promise<void> {
    return this.client.end();
  }

  /** The items `triggerNode` emitted, per execution of `workflowId`. */
  async emissions(workflowId: string, triggerNode: string): Promise<Emission[]> {
    const { rows } = await this.client.query<ExecutionRow>(
      `SELECT e.id, e.status, e."createdAt", d.data FROM execution_entity e LEFT JOIN execution_data d ON d."executionId" = e.id WHERE e."workflowId" = $1 ORDER BY e.id`,
      [workflowId],
    );
    return emissionsOf(rows, this.parse, triggerNode);
  }

  async staticData(workflowId: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await this.client.query<{ staticData: unknown }>(`SELECT "staticData" FROM workflow_entity WHERE id = $1`, [workflowId]);
    const value = rows[0]?.staticData;
    if (typeof value === 'string') return JSON.parse(value) as Record<string, unknown>;
    return (value ?? undefined) as Record<string, unknown> | undefined;
  }

  /** The error messages of the failed executions of `workflowId`, counted. */
  async errors(workflowId: string): Promise<Record<string, number>> {
    const { rows } = await this.client.query<{ data: string | null }>(
      `SELECT d.data FROM execution_entity e LEFT JOIN execution_data d ON d."executionId" = e.id WHERE e."workflowId" = $1 AND e.status IN ('error', 'crashed')`,
      [workflowId],
    );
    const out: Record<string, number> = {};
    for (const row of rows) {
      let message = 'no execution data';
      if (row.data) {
        const data = this.parse(row.data) as { resultData?: { error?: { message?: unknown } } };
        message = typeof data.resultData?.error?.message === 'string' ? data.resultData.error.message : 'no error message';
      }
      out[message] = (out[message] ?? 0) + 1;
    }
    return out;
  }

  /** Executions per status of `workflowId`. */
  async statuses(workflowId: string): Promise<Record<string, number>> {
    const { rows } = await this.client.query<{ status: string; n: string }>(
      `SELECT status, COUNT(*) n FROM execution_entity WHERE "workflowId" = $1 GROUP BY status`,
      [workflowId],
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
