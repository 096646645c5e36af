/**
 * PostgreSQL's own counters for the benchmark database, read before and after the window: commits,
 * rows written, WAL written and WAL flushes. Counters reach pg_stat_database about once a second, so
 * these are close, not exact.
 */
import type pg from 'pg';

export interface ServerCounters {
  readonly commits: number;
  readonly rollbacks: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly walLsn: string;
  /** WAL flushes (fsync) since the server's statistics reset; null when pg_stat_wal lacks the column. */
  readonly walSyncs: number | null;
}

export interface ServerWork {
  readonly commits: number;
  readonly rollbacks: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsDeleted: number;
  readonly walBytes: number;
  readonly walSyncs: number | null;
}

export async function readServerCounters(client: pg.Client, databaseName: string): Promise<ServerCounters> {
  const { rows } = await client.query<{ commits: string; rollbacks: string; inserted: string; updated: string; deleted: string; lsn: string }>(
    `select xact_commit as commits, xact_rollback as rollbacks, tup_inserted as inserted, tup_updated as updated, tup_deleted as deleted,
            pg_current_wal_lsn()::text as lsn
     from pg_stat_database where datname = $1`,
    [databaseName],
  );
  const row = rows[0]!;
  let walSyncs: number | null = null;
  try {
    const wal = await client.query<{ wal_sync: string }>('select wal_sync from pg_stat_wal');
    walSyncs = Number(wal.rows[0]?.wal_sync ?? Number.NaN);
    if (!Number.isFinite(walSyncs)) walSyncs = null;
  } catch {
    walSyncs = null;
  }
  return {
    commits: Number(row.commits),
    rollbacks: Number(row.rollbacks),
    rowsInserted: Number(row.inserted),
    rowsUpdated: Number(row.updated),
    rowsDeleted: Number(row.deleted),
    walLsn: row.lsn,
    walSyncs,
  };
}

export async function serverWorkBetween(client: pg.Client, start: ServerCounters, end: ServerCounters): Promise<ServerWork> {
  const { rows } = await client.query<{ bytes: number }>('select pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::float8 as bytes', [start.walLsn, end.walLsn]);
  return {
    commits: end.commits - start.commits,
    rollbacks: end.rollbacks - start.rollbacks,
    rowsInserted: end.rowsInserted - start.rowsInserted,
    rowsUpdated: end.rowsUpdated - start.rowsUpdated,
    rowsDeleted: end.rowsDeleted - start.rowsDeleted,
    walBytes: rows[0]!.bytes,
    walSyncs: start.walSyncs !== null && end.walSyncs !== null ? end.walSyncs - start.walSyncs : null,
  };
}

/** The server processes doing the benchmark's work: its database's backends and the shared background processes. */
export async function benchServerPids(client: pg.Client, databaseName: string): Promise<Set<number>> {
  const { rows } = await client.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = $1 or backend_type not in ('client backend', 'autovacuum worker')",
    [databaseName],
  );
  return new Set(rows.map((row) => row.pid));
}
