import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AlipaySdk } from 'alipay-sdk';
import type { DestinationStream } from 'pino';
import type { DemoCredentials } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startTongbao, type Instance, type Role } from '../../src/runtime.js';
import { createFreshDatabase } from './database.js';

export interface TestInstance {
  instance: Instance;
  url: string;
  demo: DemoCredentials;
  databaseUrl: string;
  dataDir: string;
  /** The official alipay-sdk client configured for the demo app (or the given credentials). */
  sdk(credentials?: { appId: string; privateKey: string }): AlipaySdk;
  admin<T = any>(method: string, pathName: string, body?: unknown): Promise<{ status: number; body: T }>;
  query<T extends Record<string, unknown> = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Stops this process's Tongbao and starts a new one on the same database and data folder. */
  restart(overrides?: Record<string, string>): Promise<TestInstance>;
  stop(): Promise<void>;
}

/**
 * Starts a whole Tongbao (api + worker + sandbox bank) on a fresh database and a fresh data folder. With
 * `logDestination`, every log line goes there (set LOG_LEVEL in the overrides to see more than nothing).
 */
export async function startTestInstance(overrides: Record<string, string> = {}, logDestination?: DestinationStream): Promise<TestInstance> {
  const database = await createFreshDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tongbao-test-'));
  return launch(database, dataDir, overrides, logDestination);
}

function testConfig(databaseUrl: string, dataDir: string, overrides: Record<string, string>) {
  return loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    TONGBAO_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    TONGBAO_SANDBOX_PORT: '0',
    TONGBAO_WORKER_POLL_INTERVAL_MS: '100',
    TONGBAO_CHANNEL_TIMEOUT_MS: '3000',
    TONGBAO_DB_POOL_SIZE: '30',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  });
}

/**
 * Starts another Tongbao process role (api or worker) on the same database and data folder as `base`,
 * talking to base's sandbox bank: several processes sharing one database, as in production.
 */
export async function startSibling(base: TestInstance, role: Role, overrides: Record<string, string> = {}): Promise<Instance> {
  const config = testConfig(base.databaseUrl, base.dataDir, { TONGBAO_SANDBOX_URL: base.instance.sandboxBankUrl!, ...overrides });
  return startTongbao(config, role, createLogger(config.LOG_LEVEL));
}

async function launch(database: { url: string; drop(): Promise<void> }, dataDir: string, overrides: Record<string, string>, logDestination?: DestinationStream): Promise<TestInstance> {
  const config = testConfig(database.url, dataDir, overrides);
  const instance = await startTongbao(config, 'all', createLogger(config.LOG_LEVEL, logDestination));
  const demo = JSON.parse(readFileSync(path.join(dataDir, 'demo-app.json'), 'utf8')) as DemoCredentials;
  const url = instance.url!;
  return {
    instance,
    url,
    demo,
    databaseUrl: database.url,
    dataDir,
    sdk(credentials) {
      return new AlipaySdk({
        appId: credentials?.appId ?? demo.app_id,
        privateKey: credentials?.privateKey ?? demo.app_private_key,
        alipayPublicKey: demo.platform_public_key,
        gateway: `${url}/gateway.do`,
        signType: 'RSA2',
        keyType: 'PKCS8',
        timeout: 30_000,
      });
    },
    async admin(method, pathName, body) {
      const response = await fetch(`${url}/admin${pathName}`, {
        method,
        headers: { authorization: `Bearer ${instance.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    async query(sql, params = []) {
      const { rows } = await instance.context.pool.query(sql, params);
      return rows;
    },
    async restart(newOverrides) {
      await instance.stop();
      return launch(database, dataDir, newOverrides ?? overrides, logDestination);
    },
    async stop() {
      await instance.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
