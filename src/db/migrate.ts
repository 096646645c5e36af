import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import type { Logger } from '../logger.js';
import type { Pool } from './pool.js';
import { packageRoot } from '../shared/paths.js';

/**
 * Applies Tongbao's versioned SQL migrations (migrations/*.sql) and the job queue's own schema.
 * Several processes starting at once migrate one after another under an advisory lock.
 */
export async function migrate(databaseUrl: string, pool: Pool, log: Logger): Promise<void> {
  // node-pg-migrate gives up when another process holds its lock; Tongbao processes starting together
  // should wait their turn instead, so a blocking advisory lock serializes them and the runner takes none.
  const lockClient = await pool.connect();
  try {
    await lockClient.query("select pg_advisory_lock(hashtext('tongbao.migrate'))");
    await runMigrations(databaseUrl, pool, log);
  } finally {
    await lockClient.query("select pg_advisory_unlock(hashtext('tongbao.migrate'))").catch(() => undefined);
    lockClient.release();
  }
}

async function runMigrations(databaseUrl: string, pool: Pool, log: Logger): Promise<void> {
  const applied = await runner({
    noLock: true,
    databaseUrl,
    dir: path.join(packageRoot(), 'migrations'),
    migrationsTable: 'schema_migrations',
    direction: 'up',
    checkOrder: true,
    logger: { debug: () => undefined, info: (message: string) => log.debug(message), warn: (message: string) => log.warn(message), error: (message: string) => log.error(message) },
  });
  if (applied.length > 0) log.info({ migrations: applied.map((migration) => migration.name) }, 'database migrated');
  await runWorkerMigrations({ pgPool: pool });
}
