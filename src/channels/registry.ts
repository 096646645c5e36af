import type { Logger } from '../logger.js';
import { guardChannel, type ChannelHealthReport, type GuardedChannel, type GuardSettings } from './guard.js';
import { ChannelMetrics } from './metrics.js';
import type { ChannelAdapter } from './types.js';

/** What an instance is beyond its adapter: how it was built, and whose account it is (null: the platform's). */
export interface ChannelInstanceInfo {
  readonly adapter: string;
  readonly merchantId: string | null;
}

/**
 * The channels this instance can use, by name. Every adapter is registered behind its own bulkhead and
 * circuit breaker (guard.ts), so callers only ever see guarded channels.
 */
export class ChannelRegistry {
  private readonly channels = new Map<string, GuardedChannel>();
  private readonly instances = new Map<string, ChannelInstanceInfo>();
  readonly metrics = new ChannelMetrics();

  constructor(private readonly settings: GuardSettings, private readonly log: Logger) {}

  register(adapter: ChannelAdapter & { dispose?: () => Promise<void> }, info: ChannelInstanceInfo = { adapter: adapter.name, merchantId: null }): void {
    if (this.channels.has(adapter.name)) throw new Error(`channel ${adapter.name} registered twice`);
    this.channels.set(adapter.name, guardChannel(adapter, this.settings, this.metrics, this.log));
    this.instances.set(adapter.name, info);
  }

  /** Puts a channel in service, or a new build of it in place of the old one (a configuration change). */
  async replace(adapter: ChannelAdapter & { dispose?: () => Promise<void> }, info: ChannelInstanceInfo = { adapter: adapter.name, merchantId: null }): Promise<void> {
    const previous = this.channels.get(adapter.name);
    this.channels.set(adapter.name, guardChannel(adapter, this.settings, this.metrics, this.log));
    this.instances.set(adapter.name, info);
    // Calls already holding the old adapter finish on it; its pool closes once they are done.
    await previous?.dispose?.();
  }

  /** Takes a channel out of this process; calls in flight finish first. */
  async remove(name: string): Promise<void> {
    const previous = this.channels.get(name);
    this.channels.delete(name);
    this.instances.delete(name);
    await previous?.dispose?.();
  }

  /** How the channel in service under this name was built and whose account it is. */
  info(name: string): ChannelInstanceInfo | undefined {
    return this.instances.get(name);
  }

  /**
   * The channel, when this merchant may pay through it: the platform's instances serve every merchant, a
   * merchant's own instance only that merchant.
   */
  usableBy(name: string, merchantId: string): GuardedChannel | undefined {
    const owner = this.instances.get(name)?.merchantId ?? null;
    return owner === null || owner === merchantId ? this.channels.get(name) : undefined;
  }

  get(name: string): GuardedChannel | undefined {
    return this.channels.get(name);
  }

  names(): string[] {
    return [...this.channels.keys()];
  }

  health(): ChannelHealthReport[] {
    return [...this.channels.values()].map((channel) => channel.health());
  }

  async close(): Promise<void> {
    await Promise.all([...this.channels.values()].map((channel) => channel.dispose?.()));
  }
}
