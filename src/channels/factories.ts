/**
 * How each configurable channel is built from the configuration operators store through the admin API.
 * A factory validates the configuration (throwing an error that names the bad field, never a secret's value)
 * and returns the adapter. The sandbox is not here: its credentials are generated (setup.ts).
 */
import { createAlipayAdapter, parseAlipayConfig } from './alipay/index.js';
import { createStripeAdapter } from './stripe/index.js';
import type { ChannelAdapter } from './types.js';
import { createUnionpayAdapter } from './unionpay/index.js';
import { createWechatAdapter, parseWechatConfig } from './wechat/index.js';

export type BuiltAdapter = ChannelAdapter & { dispose?: () => Promise<void> };

export interface FactoryDependencies {
  /** Used when the configuration names no timeoutMs of its own (TONGBAO_CHANNEL_TIMEOUT_MS). */
  readonly defaultTimeoutMs: number;
}

type Factory = (config: Record<string, unknown>, dependencies: FactoryDependencies) => BuiltAdapter;

export const channelFactories: Readonly<Record<string, Factory>> = {
  alipay: (config) => createAlipayAdapter(parseAlipayConfig(config)),
  wechat: (config) => createWechatAdapter(parseWechatConfig(config)),
  unionpay: (config) => createUnionpayAdapter(config),
  stripe: (config) => createStripeAdapter(config),
};

/**
 * Builds a configured channel instance with the named adapter; the configuration's own timeoutMs wins over the
 * default. The instance answers to its own name, so its attempts, callbacks (/channels/<name>/notify), health and
 * clearing account are its own.
 */
export function buildChannel(adapter: string, name: string, config: Record<string, unknown>, dependencies: FactoryDependencies): BuiltAdapter {
  const factory = channelFactories[adapter];
  if (!factory) throw new Error(`no adapter named ${adapter}; configurable: ${Object.keys(channelFactories).join(', ')}`);
  const built = factory({ timeoutMs: dependencies.defaultTimeoutMs, ...config }, dependencies);
  // Adapters are plain objects of closures, so a copy under another name behaves the same.
  return built.name === name ? built : { ...built, name };
}
