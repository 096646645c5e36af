import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';

let embedded: EmbeddedDatabase | undefined;
let dataDir: string | undefined;

/**
 * Tests run against DATABASE_URL (CI: the machine's PostgreSQL); each test file creates its own fresh
 * database there. Without DATABASE_URL, one embedded PostgreSQL is started for the whole run.
 */
export async function setup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  dataDir = mkdtempSync(path.join(tmpdir(), 'tongbao-test-pg-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  embedded = await startEmbeddedPostgres(dataDir, port, createLogger('warn'));
  process.env.DATABASE_URL = embedded.url;
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
