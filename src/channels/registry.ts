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

  /** Puts a channel in service, or a new build of it in place of the old one (a configuration change). */
  async replace(adapter: ChannelAdapter & { dispose?: () => Promise<void> }): Promise<void> {
    const previous = this.channels.get(adapter.name);
    this.channels.set(adapter.name, guardChannel(adapter, this.settings, this.metrics, this.log));
    // Calls already holding the old adapter finish on it; its pool closes once they are done.
    await previous?.dispose?.();
  }

  /** Takes a channel out of this process; calls in flight finish first. */
  async remove(name: string): Promise<void> {
    const previous = this.channels.get(name);
    this.channels.delete(name);
    await previous?.dispose?.();
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
