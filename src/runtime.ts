import type { FastifyInstance } from 'fastify';
import { Logger as WorkerLogger, type Runner } from 'graphile-worker';
import { bootstrapDemo } from './bootstrap.js';
import { setupChannels } from './channels/setup.js';
import type { Config } from './config.js';
import type { Context } from './context.js';
import { buildApp } from './app.js';
import { openDatabase } from './db/connect.js';
import { migrate } from './db/migrate.js';
import { createPool } from './db/pool.js';
import { startWorker } from './jobs/index.js';
import { createLedger } from './ledger/index.js';
import { createLogger, type Logger } from './logger.js';
import { loadPlatformKey } from './merchant/index.js';
import { createNotifier } from './notify/index.js';
import { SecretBox } from './shared/crypto.js';
import { newAdminToken, newMasterKey, readOrCreateLocalSecret } from './shared/local-secrets.js';
import { followTestClock } from './testclock/index.js';
import { accountJobHandlers } from './account/index.js';
import { agreementJobHandlers } from './agreement/index.js';
import { localPayJobHandlers } from './localpay/index.js';
import { preauthJobHandlers } from './preauth/index.js';
import { tradeJobHandlers } from './trade/index.js';

export type Role = 'api' | 'worker' | 'all';

export interface Instance {
  readonly context: Context;
  /** Where this instance serves HTTP (api roles only). */
  readonly url: string | null;
  readonly adminToken: string;
  /** Set on the first start of an empty database. */
  readonly demoCredentialsFile: string | null;
  /** The sandbox bank this process runs, if it runs one. */
  readonly sandboxBankUrl: string | null;
  stop(): Promise<void>;
}

/**
 * Starts Tongbao: database (embedded unless DATABASE_URL), migrations, keys, channels, and the
 * api role (HTTP), the worker role (jobs), or both in one process.
 */
export async function startTongbao(config: Config, role: Role, log: Logger = createLogger(config.LOG_LEVEL)): Promise<Instance> {
  const database = await openDatabase(config, log);
  const pool = createPool(database.url, config.TONGBAO_DB_POOL_SIZE);
  const cleanups: Array<() => Promise<void>> = [async () => pool.end(), () => database.release()];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => log.error({ err: error }, 'shutdown step failed'));
  };
  try {
    await migrate(database.url, pool, log);
    const clock = await followTestClock(config, pool, log);
    cleanups.push(() => clock.close());
    const secrets = new SecretBox(config.TONGBAO_MASTER_KEY ?? readOrCreateLocalSecret(config.dataDir, 'master.key', newMasterKey));
    const adminToken = config.TONGBAO_ADMIN_TOKEN ?? readOrCreateLocalSecret(config.dataDir, 'admin-token', newAdminToken);
    const platformKey = await loadPlatformKey(pool, secrets);
    const channels = await setupChannels(config, pool, secrets, log, role !== 'worker');
    cleanups.push(() => channels.close());
    const context: Context = {
      config, pool, log, secrets, platformKey,
      ledger: createLedger(),
      channels: channels.registry,
      urls: { publicUrl: config.TONGBAO_PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}` },
    };
    const notifier = createNotifier(context);
    cleanups.push(() => notifier.close());

    let url: string | null = null;
    let demoCredentialsFile: string | null = null;
    if (role !== 'worker') {
      const app: FastifyInstance = await buildApp(context, { adminToken, notifier });
      await app.listen({ host: config.HOST, port: config.PORT });
      cleanups.push(() => app.close());
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.PORT;
      url = `http://127.0.0.1:${port}`;
      if (!config.TONGBAO_PUBLIC_URL) context.urls.publicUrl = url;
      // Production gets no demo merchant and no private key on disk.
      if (config.NODE_ENV !== 'production') demoCredentialsFile = await bootstrapDemo(context);
    }
    if (role !== 'api') {
      const runner: Runner = await startWorker({
        pool,
        concurrency: config.TONGBAO_WORKER_CONCURRENCY,
        pollIntervalMs: config.TONGBAO_WORKER_POLL_INTERVAL_MS,
        logger: workerLogger(log),
        handlers: {
          ...tradeJobHandlers(context),
          ...preauthJobHandlers(context),
          ...accountJobHandlers(context),
          ...agreementJobHandlers(context),
          ...localPayJobHandlers(context),
          'notify.deliver': ({ notify_id }) => notifier.deliver(notify_id),
        },
      });
      cleanups.push(() => runner.stop());
    }
    log.info({ role, url, embedded_database: database.embedded }, 'tongbao started');
    return { context, url, adminToken, demoCredentialsFile, sandboxBankUrl: channels.sandboxBank?.url ?? null, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** graphile-worker's own log lines, through pino; its per-job chatter only at debug. */
function workerLogger(log: Logger): WorkerLogger {
  const child = log.child({ component: 'worker' });
  return new WorkerLogger(() => (level, message, meta) => {
    const fields = { ...(meta ?? {}) };
    if (level === 'error') child.error(fields, message);
    else if (level === 'warning') child.warn(fields, message);
    else child.debug(fields, message);
  });
}
