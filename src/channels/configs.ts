/**
 * Channel configuration, changeable without a restart. Operators store a channel's configuration (its
 * credentials among it) through the admin API; it is validated by building the adapter, sealed with the
 * master key in channel_configs, and put in service at once in this process. Every other process on the
 * database follows through LISTEN/NOTIFY and rebuilds the channel from the stored row.
 *
 * Credentials never leave: the API answers without them, errors name the bad field but not its value, and
 * adapters keep secrets in `Secret`s that print as [redacted].
 */
import type { PoolClient } from 'pg';
import type { Context } from '../context.js';
import { withTransaction, type Pool } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../shared/crypto.js';
import { buildChannel, channelFactories, type FactoryDependencies } from './factories.js';
import type { ChannelRegistry } from './registry.js';

const notifyChannel = 'tongbao_channels';
const relistenDelayMs = 1000;

export interface ChannelConfigRow {
  channel: string;
  enabled: boolean;
  config_sealed: string;
  updated_at: Date;
}

export function isConfigurable(channel: string): boolean {
  return Object.hasOwn(channelFactories, channel);
}

async function findConfig(pool: Pool | PoolClient, channel: string): Promise<ChannelConfigRow | undefined> {
  const { rows } = await pool.query<ChannelConfigRow>('select * from channel_configs where channel = $1', [channel]);
  return rows[0];
}

export async function listConfigs(pool: Pool): Promise<Array<Omit<ChannelConfigRow, 'config_sealed'>>> {
  const { rows } = await pool.query<ChannelConfigRow>("select channel, enabled, updated_at from channel_configs where channel <> 'sandbox' order by channel");
  return rows;
}

interface Loader {
  readonly pool: Pool;
  readonly secrets: SecretBox;
  readonly registry: ChannelRegistry;
  readonly dependencies: FactoryDependencies;
  readonly log: Logger;
}

/** Puts the stored state of one channel in service in this process: built when enabled, removed when not. */
async function applyStored(loader: Loader, channel: string): Promise<void> {
  const row = await findConfig(loader.pool, channel);
  if (!row || !row.enabled) {
    await loader.registry.remove(channel);
    return;
  }
  try {
    const config = JSON.parse(loader.secrets.open(row.config_sealed)) as Record<string, unknown>;
    await loader.registry.replace(buildChannel(channel, config, loader.dependencies));
  } catch (error) {
    // A stored configuration that no longer builds (an adapter's rules changed) must not stop Tongbao.
    loader.log.error({ channel, err: (error as Error).message }, 'stored channel configuration does not build; the channel is off');
    await loader.registry.remove(channel);
  }
}

export interface ConfigFollower {
  close(): Promise<void>;
}

/**
 * Registers every enabled configured channel, then follows changes made by any process. A dropped listening
 * connection is replaced, and every channel reloaded, so a change in between is not missed.
 */
export async function loadAndFollowConfigs(loader: Loader): Promise<ConfigFollower> {
  const reloadAll = async () => {
    for (const channel of Object.keys(channelFactories)) await applyStored(loader, channel);
  };
  let client: PoolClient | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  const listen = async (): Promise<void> => {
    const connection = await loader.pool.connect();
    connection.on('notification', (message) => {
      if (message.channel !== notifyChannel || !message.payload || !isConfigurable(message.payload)) return;
      void applyStored(loader, message.payload).catch((error: unknown) => loader.log.error({ err: error }, 'channel reload failed'));
    });
    connection.on('error', (error) => {
      loader.log.warn({ err: error }, 'channel configuration listener lost its connection; reconnecting');
      connection.release(error);
      if (client === connection) client = null;
      if (!closed) retry = setTimeout(() => void listen().then(reloadAll).catch((next: unknown) => loader.log.error({ err: next }, 'channel listener failed')), relistenDelayMs);
    });
    await connection.query(`listen ${notifyChannel}`);
    client = connection;
  };
  await listen();
  await reloadAll();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (client) {
        await client.query(`unlisten ${notifyChannel}`).catch(() => undefined);
        client.release();
        client = null;
      }
    },
  };
}

/**
 * PUT /admin/channels/:channel: validates by building the adapter (nothing is stored when it does not
 * build), stores the sealed configuration, tells the other processes, and puts it in service here.
 */
export async function saveConfig(context: Context, channel: string, input: { enabled: boolean; config: Record<string, unknown> }): Promise<Omit<ChannelConfigRow, 'config_sealed'>> {
  if (!isConfigurable(channel)) {
    fail(errors.notFound, `no configurable channel ${channel}; configurable: ${Object.keys(channelFactories).join(', ')} (the sandbox is switched by TONGBAO_SANDBOX)`);
  }
  const dependencies = { pool: context.pool, defaultTimeoutMs: context.config.TONGBAO_CHANNEL_TIMEOUT_MS };
  let built;
  try {
    built = buildChannel(channel, input.config, dependencies);
  } catch (error) {
    fail(errors.adminInvalidInput, `the ${channel} configuration is invalid: ${(error as Error).message}`);
  }
  const row = await withTransaction(context.pool, async (client) => {
    const { rows } = await client.query<ChannelConfigRow>(
      `insert into channel_configs (channel, enabled, config_sealed) values ($1, $2, $3)
       on conflict (channel) do update set enabled = excluded.enabled, config_sealed = excluded.config_sealed, updated_at = now()
       returning channel, enabled, updated_at`,
      [channel, input.enabled, context.secrets.seal(JSON.stringify(input.config))],
    );
    await client.query('select pg_notify($1, $2)', [notifyChannel, channel]);
    return rows[0]!;
  });
  if (input.enabled) await context.channels.replace(built);
  else {
    await built.dispose?.();
    await context.channels.remove(channel);
  }
  context.log.warn({ channel, enabled: input.enabled }, 'channel configuration changed by an operator');
  return row;
}
