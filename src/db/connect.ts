import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded.js';

export interface DatabaseHandle {
  url: string;
  embedded: boolean;
  /** Stops the embedded server if this process started it; otherwise does nothing. */
  release(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL in the data folder: reused when another
 * Tongbao process on this data folder already runs it (a CLI command beside `npm start`), else started.
 */
export async function openDatabase(config: Config, log: Logger): Promise<DatabaseHandle> {
  if (config.DATABASE_URL) return { url: config.DATABASE_URL, embedded: false, release: async () => undefined };
  const url = `postgres://tongbao:tongbao@127.0.0.1:${config.TONGBAO_EMBEDDED_PG_PORT}/tongbao`;
  if (existsSync(path.join(config.dataDir, 'pg', 'postmaster.pid')) && (await answers(url))) {
    log.debug('using the embedded PostgreSQL another Tongbao process runs');
    return { url, embedded: true, release: async () => undefined };
  }
  const server = await startEmbeddedPostgres(config.dataDir, config.TONGBAO_EMBEDDED_PG_PORT, log);
  return { url: server.url, embedded: true, release: () => server.stop() };
}
