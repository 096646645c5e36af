import type { Logger } from '../logger.js';
import { guardChannel, type ChannelHealthReport, type GuardedChannel, type GuardSettings } from './guard.js';
import { ChannelMetrics } from './metrics.js';
import type { ChannelAdapter } from './types.js';

/**
 * The channels this instance can use, by name. Every adapter is registered behind its own bulkhead and
 * circuit breaker (guard.ts), so callers only ever see guarded channels.
 */
export class ChannelRegistry {
  private readonly channels = new Map<string, GuardedChannel>();
  readonly metrics = new ChannelMetrics();

  constructor(private readonly settings: GuardSettings, private readonly log: Logger) {}

  register(adapter: ChannelAdapter & { dispose?: () => Promise<void> }): void {
    if (this.channels.has(adapter.name)) throw new Error(`channel ${adapter.name} registered twice`);
    this.channels.set(adapter.name, guardChannel(adapter, this.settings, this.metrics, this.log));
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
