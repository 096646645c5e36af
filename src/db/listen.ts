import type { PoolClient } from 'pg';
import type { Logger } from '../logger.js';
import type { Pool } from './pool.js';

const relistenDelayMs = 1000;

export interface Listener {
  close(): Promise<void>;
}

/**
 * Holds one pooled connection LISTENing on a PostgreSQL channel and calls `onPayload` for each NOTIFY. A lost
 * connection is released once and replaced after a second; `onReconnect` then runs, so the caller can re-read
 * what may have changed while nobody listened. Closing stops it for good.
 */
export async function listen(pool: Pool, channel: string, log: Logger, handlers: { onPayload(payload: string): void; onReconnect(): Promise<void> }): Promise<Listener> {
  let current: PoolClient | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    const connection = await pool.connect();
    connection.on('notification', (message) => {
      if (message.channel === channel && message.payload) handlers.onPayload(message.payload);
    });
    connection.on('error', (error) => {
      // pg may report one failure more than once, and a closed listener has already given the connection back.
      if (current !== connection) return;
      current = null;
      connection.release(error);
      if (closed) return;
      log.warn({ err: error, channel }, 'listening connection lost; reconnecting');
      retry = setTimeout(() => {
        connect().then(handlers.onReconnect).catch((next: unknown) => log.error({ err: next, channel }, 'could not listen again'));
      }, relistenDelayMs);
    });
    await connection.query(`listen ${channel}`);
    current = connection;
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const connection = current;
      current = null;
      if (!connection) return;
      await connection.query(`unlisten ${channel}`).catch(() => undefined);
      connection.release();
    },
  };
}
