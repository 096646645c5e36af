/**
 * The stripe client as this channel uses it: its own keep-alive connection pool (a node:http or node:https
 * Agent with a connection limit), no automatic retries (Tongbao queries and compensates itself), the
 * configured API host, and a hard deadline on every call on top of the client's socket timeout (which only
 * fires when the socket is idle). `call` turns whatever the client throws into a CallFailure.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Stripe from 'stripe';
import type { StripeConfig } from './config.js';
import { classifyCallError, deadlineErrorName, type CallFailure } from './protocol.js';

export type CallOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: CallFailure };

export interface StripeChannelClient {
  /** Runs one API call under the deadline. */
  call<T>(run: (stripe: Stripe) => Promise<T>): Promise<CallOutcome<T>>;
  /** Walks an auto-paginated list; every page the client fetches is under the deadline. Throws what the client throws. */
  paginate<T>(start: (stripe: Stripe) => AsyncIterable<T>): AsyncGenerator<T>;
  readonly webhooks: Stripe['webhooks'];
  dispose(): Promise<void>;
}

export function createStripeClient(config: StripeConfig): StripeChannelClient {
  const agentOptions = { keepAlive: true, maxSockets: config.maxConnections, maxFreeSockets: Math.min(config.maxConnections, 8) };
  const agent = config.api.protocol === 'http' ? new HttpAgent(agentOptions) : new HttpsAgent(agentOptions);
  const stripe = new Stripe(config.secretKey.reveal(), {
    host: config.api.host,
    port: config.api.port,
    protocol: config.api.protocol,
    timeout: config.timeoutMs,
    maxNetworkRetries: 0,
    httpAgent: agent,
    telemetry: false,
    appInfo: { name: 'tongbao' },
  });

  function withinDeadline<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`no answer within ${config.timeoutMs} ms`);
        error.name = deadlineErrorName;
        reject(error);
      }, config.timeoutMs);
    });
    // The losing promise's rejection is still observed, so an abandoned call never surfaces as unhandled.
    promise.catch(() => undefined);
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
  }

  return {
    async call(run) {
      try {
        return { ok: true, value: await withinDeadline(run(stripe)) };
      } catch (error) {
        return { ok: false, failure: classifyCallError(error) };
      }
    },
    async *paginate(start) {
      const iterator = start(stripe)[Symbol.asyncIterator]();
      for (;;) {
        const step = await withinDeadline(iterator.next());
        if (step.done) return;
        yield step.value;
      }
    },
    webhooks: stripe.webhooks,
    async dispose() {
      agent.destroy();
    },
  };
}
