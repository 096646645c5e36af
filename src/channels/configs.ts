/**
 * Channel configuration, changeable without a restart. Operators store a channel's configuration (its
 * credentials among it) through the admin API; it is validated by building the adapter, sealed with the
 * master key in channel_configs, and put in service at once in this process. Every other process on the
 * database follows through LISTEN/NOTIFY and rebuilds the channel from the stored row.
 *
 * A configured channel is an instance: its name (`alipay`, or `alipay-shop` for a second account) says which
 * one a trade went through, and `adapter` says how it is built. An instance may belong to a merchant (its own
 * account at the channel, money collected straight to it): only that merchant's trades may use it.
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
  adapter: string;
  merchant_id: string | null;
  enabled: boolean;
  config_sealed: string;
  updated_at: Date;
}

export function isConfigurableAdapter(adapter: string): boolean {
  return Object.hasOwn(channelFactories, adapter);
}

export type ChannelConfigSummary = Omit<ChannelConfigRow, 'config_sealed'>;

async function findConfig(pool: Queryable, channel: string): Promise<ChannelConfigRow | undefined> {
  const { rows } = await pool.query<ChannelConfigRow>('select * from channel_configs where channel = $1', [channel]);
  return rows[0];
}

export async function listConfigs(pool: Queryable): Promise<ChannelConfigSummary[]> {
  const { rows } = await pool.query<ChannelConfigRow>("select channel, adapter, merchant_id, enabled, updated_at from channel_configs where adapter <> 'sandbox' order by channel");
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
    await loader.registry.replace(buildChannel(row.adapter, channel, config, loader.dependencies), { adapter: row.adapter, merchantId: row.merchant_id });
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
    for (const row of await listConfigs(loader.pool)) await applyStored(loader, row.channel);
  };
  const listener = await listen(loader.pool, notifyChannel, loader.log, {
    onPayload(channel) {
      if (channel === 'sandbox') return;
      applyStored(loader, channel).catch((error: unknown) => loader.log.error({ err: error }, 'channel reload failed'));
    },
    onReconnect: reloadAll,
  });
  await reloadAll();
  return listener;
}

export interface ChannelConfigInput {
  readonly enabled: boolean;
  readonly config: Record<string, unknown>;
  /** How the instance is built; default the instance's own name (`alipay` is built with the alipay adapter). */
  readonly adapter?: string | undefined;
  /** The merchant the instance belongs to; absent for the platform's own accounts. */
  readonly merchant_id?: string | undefined;
}

/**
 * PUT /admin/channels/:channel: validates by building the adapter (nothing is stored when it does not
 * build), stores the sealed configuration, tells the other processes, and puts it in service here. An
 * instance's adapter and owner are fixed once stored: trades already went through it as what it was.
 */
export async function saveConfig(context: Context, channel: string, input: ChannelConfigInput): Promise<ChannelConfigSummary> {
  const existing = await findConfig(context.pool, channel);
  if (channel === 'sandbox' || existing?.adapter === 'sandbox') fail(errors.notFound, 'the sandbox channel is switched by TONGBAO_SANDBOX, not configured here');
  const adapter = input.adapter ?? existing?.adapter ?? channel;
  if (!isConfigurableAdapter(adapter)) {
    fail(errors.notFound, `no configurable adapter ${adapter}; configurable: ${Object.keys(channelFactories).join(', ')} (name another instance with "adapter")`);
  }
  if (!/^[a-z][a-z0-9-]{1,31}$/.test(channel)) fail(errors.adminInvalidInput, 'a channel name is 2 to 32 lowercase letters, digits and dashes, starting with a letter');
  const merchantId = input.merchant_id ?? existing?.merchant_id ?? null;
  if (existing && (existing.adapter !== adapter || existing.merchant_id !== merchantId)) {
    fail(errors.adminInvalidInput, `channel ${channel} is a ${existing.adapter} instance of ${existing.merchant_id ?? 'the platform'}; its adapter and owner cannot change (configure a new instance instead)`);
  }
  if (merchantId !== null && !(await context.pool.query('select 1 from merchants where merchant_id = $1', [merchantId])).rowCount) {
    fail(errors.adminInvalidInput, `no merchant ${merchantId}`);
  }
  const dependencies = { defaultTimeoutMs: context.config.TONGBAO_CHANNEL_TIMEOUT_MS };
  let built;
  try {
    built = buildChannel(adapter, channel, input.config, dependencies);
  } catch (error) {
    fail(errors.adminInvalidInput, `the ${adapter} configuration is invalid: ${(error as Error).message}`);
  }
  const row = await withTransaction(context.pool, async (client) => {
    const { rows } = await client.query<ChannelConfigRow>(
      `insert into channel_configs (channel, adapter, merchant_id, enabled, config_sealed) values ($1, $2, $3, $4, $5)
       on conflict (channel) do update set enabled = excluded.enabled, config_sealed = excluded.config_sealed, updated_at = now()
       returning channel, adapter, merchant_id, enabled, updated_at`,
      [channel, adapter, merchantId, input.enabled, context.secrets.seal(JSON.stringify(input.config))],
    );
    await client.query('select pg_notify($1, $2)', [notifyChannel, channel]);
    return rows[0]!;
  });
  if (input.enabled) await context.channels.replace(built, { adapter, merchantId });
  else {
    await built.dispose?.();
    await context.channels.remove(channel);
  }
  context.log.warn({ channel, adapter, merchant_id: merchantId, enabled: input.enabled }, 'channel configuration changed by an operator');
  return row;
}
