/**
 * Where the benchmark's databases live: the PostgreSQL server behind DATABASE_URL when one answers there,
 * otherwise an embedded PostgreSQL in a temporary folder. Every database the benchmark uses is created
 * fresh beside the server's own and dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import type { Logger } from '../src/logger.js';

export const defaultDatabaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
const connectTimeoutMs = 3000;

export interface PostgresServer {
  /** A database on the server to run CREATE/DROP DATABASE from. */
  readonly adminUrl: string;
  readonly embedded: boolean;
  readonly version: string;
  stop(): Promise<void>;
}

export interface ScratchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

/** Errors that mean nobody answered at the address, as opposed to a server that answered and refused. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? '';
  return ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'ENETUNREACH', 'ECONNRESET'].includes(code) || /timeout/i.test(message);
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('show server_version');
    return rows[0]!.server_version;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** The server at `url`, or an embedded one when nothing answers there. */
export async function openPostgres(url: string, log: Logger): Promise<PostgresServer> {
  try {
    const version = await serverVersion(url);
    return { adminUrl: url, embedded: false, version, stop: async () => undefined };
  } catch (error) {
    if (!isUnreachable(error)) throw new Error(`PostgreSQL at ${redactUrl(url)} refused the benchmark: ${(error as Error).message}`);
  }
  const folder = mkdtempSync(path.join(tmpdir(), 'tongbao-bench-pg-'));
  // Removed even when the process ends abruptly.
  process.once('exit', () => rmSync(folder, { recursive: true, force: true }));
  try {
    const embedded = await startEmbeddedPostgres(folder, await freePort(), log);
    return {
      adminUrl: embedded.url,
      embedded: true,
      version: await serverVersion(embedded.url),
      async stop() {
        await embedded.stop();
        rmSync(folder, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

async function onServer<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates an empty database with a random name on the server; drop() removes it even with connections open. */
export async function createScratchDatabase(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await onServer(adminUrl, (client) => client.query(`create database ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => onServer(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
