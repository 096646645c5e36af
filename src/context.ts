import type { ChannelRegistry } from './channels/registry.js';
import type { Config } from './config.js';
import type { Pool } from './db/pool.js';
import type { Ledger } from './ledger/index.js';
import type { Logger } from './logger.js';
import type { PlatformKey } from './merchant/index.js';
import type { SecretBox } from './shared/crypto.js';

/** What every domain service needs, built once at start and passed down explicitly. */
export interface Context {
  readonly config: Config;
  readonly pool: Pool;
  readonly log: Logger;
  readonly secrets: SecretBox;
  readonly platformKey: PlatformKey;
  readonly ledger: Ledger;
  readonly channels: ChannelRegistry;
  /** Base URL where channels and merchants reach this instance (known once the server listens). */
  readonly urls: { publicUrl: string };
}
