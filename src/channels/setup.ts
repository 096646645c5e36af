import type { Config } from '../config.js';
import type { Pool } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../shared/crypto.js';
import path from 'node:path';
import { loadAndFollowConfigs } from './configs.js';
import { ChannelRegistry } from './registry.js';
import { createSandboxAdapter, generateSandboxCredentials, startSandboxBank, type SandboxBank, type SandboxCredentials } from './sandbox/index.js';

/**
 * Reads the sandbox channel's credentials, generating them on first start. Both sides live sealed in
 * channel_configs, so every Tongbao process (api or worker) on this database agrees on the keys.
 */
async function sandboxCredentials(pool: Pool, secrets: SecretBox): Promise<SandboxCredentials> {
  const read = async () => (await pool.query<{ config_sealed: string }>("select config_sealed from channel_configs where channel = 'sandbox'")).rows[0];
  let row = await read();
  if (!row) {
    await pool.query(
      "insert into channel_configs (channel, adapter, config_sealed) values ('sandbox', 'sandbox', $1) on conflict (channel) do nothing",
      [secrets.seal(JSON.stringify(generateSandboxCredentials()))],
    );
    row = await read();
  }
  return JSON.parse(secrets.open(row!.config_sealed)) as SandboxCredentials;
}

export interface Channels {
  registry: ChannelRegistry;
  /** The in-process sandbox bank, when this process runs it. */
  sandboxBank: SandboxBank | null;
  close(): Promise<void>;
}

/**
 * Builds the channel adapters. In development the sandbox bank runs inside this process on its own
 * port (TONGBAO_SANDBOX_PORT); with TONGBAO_SANDBOX_URL the adapter talks to a bank running elsewhere.
 */
export async function setupChannels(config: Config, pool: Pool, secrets: SecretBox, log: Logger, runBank: boolean): Promise<Channels> {
  const registry = new ChannelRegistry({
    maxConcurrent: config.TONGBAO_CHANNEL_MAX_CONCURRENT,
    maxQueued: config.TONGBAO_CHANNEL_MAX_QUEUED,
    breakerFailures: config.TONGBAO_BREAKER_FAILURES,
    halfOpenAfterMs: config.TONGBAO_BREAKER_HALF_OPEN_MS,
    healthWindowMs: config.TONGBAO_CHANNEL_HEALTH_WINDOW_SECONDS * 1000,
  }, log);
  let bank: SandboxBank | null = null;
  if (config.TONGBAO_SANDBOX === 'on') {
    const credentials = await sandboxCredentials(pool, secrets);
    let baseUrl = config.TONGBAO_SANDBOX_URL ?? `http://127.0.0.1:${config.TONGBAO_SANDBOX_PORT}`;
    if (runBank && !config.TONGBAO_SANDBOX_URL) {
      try {
        bank = await startSandboxBank({
          host: '127.0.0.1',
          port: config.TONGBAO_SANDBOX_PORT,
          dataDir: path.join(config.dataDir, 'sandbox-bank'),
          bankPrivateKeyPem: credentials.bankPrivateKeyPem,
          merchants: [{ mchId: credentials.mchId, publicKeyPem: credentials.merchantPublicKeyPem }],
          logger: log.child({ component: 'sandbox-bank' }),
        });
        baseUrl = bank.url;
        log.info({ url: bank.url }, 'sandbox bank listening');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        log.info({ port: config.TONGBAO_SANDBOX_PORT }, 'sandbox bank port in use; assuming another Tongbao process runs the bank');
      }
    }
    registry.register(createSandboxAdapter({
      baseUrl,
      mchId: credentials.mchId,
      merchantPrivateKeyPem: credentials.merchantPrivateKeyPem,
      bankPublicKeyPem: credentials.bankPublicKeyPem,
      timeoutMs: config.TONGBAO_CHANNEL_TIMEOUT_MS,
    }));
  }
  // The other channels are built from what operators stored through the admin API, and follow its changes.
  const follower = await loadAndFollowConfigs({
    pool, secrets, registry, log, dependencies: { defaultTimeoutMs: config.TONGBAO_CHANNEL_TIMEOUT_MS },
  });
  return {
    registry,
    sandboxBank: bank,
    async close() {
      await follower.close();
      await registry.close();
      await bank?.close();
    },
  };
}
