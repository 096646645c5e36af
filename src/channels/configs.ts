/**
 * Channel configuration, changeable without a restart. Operators store a channel's configuration (its
 * credentials among it) through the admin API; it is validated by building the adapter, sealed with the
 * master key in channel_configs, and put in service at once in this process. Every other process on the
 * database follows through LISTEN/NOTIFY and rebuilds the channel from the stored row.
 *
 * Credentials never leave: the API answers without them, errors name the bad field but not its value, and
 * adapters keep secrets in `Secret`s that print as [redacted].
 */
import { listen, type Listener } from '../db/listen.js';
import type { Context } from '../context.js';
import { withTransaction, type Pool, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SecretBox } from '../shared/crypto.js';
import { buildChannel, channelFactories, type FactoryDependencies } from './factories.js';
import type { ChannelRegistry } from './registry.js';

const notifyChannel = 'tongbao_channels';

export interface ChannelConfigRow {
  channel: string;
  enabled: boolean;
  config_sealed: string;
  updated_at: Date;
}

export function isConfigurable(channel: string): boolean {
  return Object.hasOwn(channelFactories, channel);
}

async function findConfig(pool: Queryable, channel: string): Promise<ChannelConfigRow | undefined> {
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

/**
 * Registers every enabled configured channel, then follows changes made by any process. After a lost listening
 * connection every channel is reloaded, so a change made meanwhile is not missed.
 */
export async function loadAndFollowConfigs(loader: Loader): Promise<Listener> {
  const reloadAll = async () => {
    for (const channel of Object.keys(channelFactories)) await applyStored(loader, channel);
  };
  const listener = await listen(loader.pool, notifyChannel, loader.log, {
    onPayload(channel) {
      if (!isConfigurable(channel)) return;
      applyStored(loader, channel).catch((error: unknown) => loader.log.error({ err: error }, 'channel reload failed'));
    },
    onReconnect: reloadAll,
  });
  await reloadAll();
  return listener;
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
