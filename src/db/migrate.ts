import path from 'node:path';
import { runner } from 'node-pg-migrate';
import { runMigrations as runWorkerMigrations } from 'graphile-worker';
import type { Logger } from '../logger.js';
import type { Pool } from './pool.js';
import { packageRoot } from '../shared/paths.js';

/**
 * Applies Tongbao's versioned SQL migrations (migrations/*.sql) and the job queue's own schema.
 * node-pg-migrate holds an advisory lock, so several processes starting at once migrate safely.
 */
export async function migrate(databaseUrl: string, pool: Pool, log: Logger): Promise<void> {
  const applied = await runner({
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
