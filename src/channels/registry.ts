import type { ChannelAdapter } from './types.js';

/** The channels this instance can use, by name. Adapters are built at start from channel_configs. */
export class ChannelRegistry {
  private readonly adapters = new Map<string, ChannelAdapter & { dispose?: () => Promise<void> }>();

  register(adapter: ChannelAdapter & { dispose?: () => Promise<void> }): void {
    this.adapters.set(adapter.name, adapter);
  }

  get(name: string): ChannelAdapter | undefined {
    return this.adapters.get(name);
  }

  names(): string[] {
    return [...this.adapters.keys()];
  }

  async close(): Promise<void> {
    await Promise.all([...this.adapters.values()].map((adapter) => adapter.dispose?.()));
  }
}
