/**
 * Cheap lock-contention figures: samples pg_stat_activity for the benchmark database at a fixed interval
 * and counts what the server's backends were doing. The share of busy backends waiting on a heavyweight
 * lock (row locks show up as Lock:transactionid or Lock:tuple) is the "hot row" signal; the statements
 * they were waiting in say which rows.
 */
import pg from 'pg';
import { excludeFromCounts } from './statements.js';

const sampleIntervalMs = 50;
const queryPrefixLength = 70;
const maxListed = 6;

interface Sample {
  wait_event_type: string | null;
  wait_event: string | null;
  state: string | null;
  query: string | null;
}

export interface ActivityReport {
  readonly samples: number;
  readonly intervalMs: number;
  /** Backends running a statement (state active), on average. */
  readonly meanActiveBackends: number;
  /** Backends inside a transaction but waiting for the application (idle in transaction), on average. */
  readonly meanIdleInTransactionBackends: number;
  /** Active backends waiting on a heavyweight lock, on average. */
  readonly meanLockWaitingBackends: number;
  /** Lock-waiting backend samples over active backend samples (0..1). */
  readonly lockWaitShare: number;
  /** Wait events of active backends, as average backends; "CPU" when not waiting. */
  readonly waitEvents: readonly { readonly event: string; readonly meanBackends: number }[];
  /** The statements lock-waiting backends were in, with their share of the lock-waiting samples. */
  readonly lockWaitStatements: readonly { readonly statement: string; readonly share: number }[];
}

export interface ActivitySampler {
  stop(): Promise<ActivityReport>;
}

function normalize(query: string | null): string {
  return (query ?? '').replace(/\s+/g, ' ').trim().slice(0, queryPrefixLength);
}

export async function startActivitySampler(adminUrl: string, databaseName: string): Promise<ActivitySampler> {
  const client = new pg.Client({ connectionString: adminUrl });
  // A connection the server ends (the run being torn down) must not crash the benchmark.
  client.on('error', () => undefined);
  await client.connect();
  excludeFromCounts(client);
  let samples = 0;
  let active = 0;
  let idleInTransaction = 0;
  let lockWaiting = 0;
  const events = new Map<string, number>();
  const lockStatements = new Map<string, number>();
  let stopped = false;

  async function sampleOnce(): Promise<void> {
    const { rows } = await client.query<Sample>(
      `select wait_event_type, wait_event, state, query from pg_stat_activity
       where datname = $1 and pid <> pg_backend_pid() and backend_type = 'client backend'`,
      [databaseName],
    );
    samples += 1;
    for (const row of rows) {
      if (row.state === 'idle in transaction') idleInTransaction += 1;
      if (row.state !== 'active') continue;
      active += 1;
      const event = row.wait_event_type ? `${row.wait_event_type}:${row.wait_event}` : 'CPU';
      events.set(event, (events.get(event) ?? 0) + 1);
      if (row.wait_event_type === 'Lock') {
        lockWaiting += 1;
        const statement = normalize(row.query);
        lockStatements.set(statement, (lockStatements.get(statement) ?? 0) + 1);
      }
    }
  }

  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      await sampleOnce().catch(() => { stopped = true; });
      const elapsed = performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, sampleIntervalMs - elapsed)));
    }
  })();

  let closed: Promise<void> | null = null;
  return {
    // Safe to call more than once: the connection is closed once, the figures are read each time.
    async stop() {
      stopped = true;
      closed ??= loop.finally(() => client.end().catch(() => undefined));
      await closed;
      const per = (value: number) => (samples === 0 ? 0 : Math.round((value / samples) * 100) / 100);
      return {
        samples,
        intervalMs: sampleIntervalMs,
        meanActiveBackends: per(active),
        meanIdleInTransactionBackends: per(idleInTransaction),
        meanLockWaitingBackends: per(lockWaiting),
        lockWaitShare: active === 0 ? 0 : Math.round((lockWaiting / active) * 1000) / 1000,
        waitEvents: [...events].sort((a, b) => b[1] - a[1]).slice(0, maxListed).map(([event, count]) => ({ event, meanBackends: per(count) })),
        lockWaitStatements: [...lockStatements].sort((a, b) => b[1] - a[1]).slice(0, maxListed)
          .map(([statement, count]) => ({ statement, share: Math.round((count / lockWaiting) * 1000) / 1000 })),
      };
    },
  };
}
