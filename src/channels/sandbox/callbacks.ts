import { randomBytes, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import { sandboxHeaders, signedHeaders } from './protocol.js';

export interface CallbackDelivery {
  readonly mchId: string;
  readonly notifyUrl: string;
  /** The callback body: `{ event, ...the object a query answers with }`. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Names the callback in logs. */
  readonly outNo: string;
}

export interface CallbackSenderOptions {
  readonly bankPrivateKey: KeyObject;
  /** Waits before each retry; the first attempt is immediate, so there are `length + 1` attempts in all. */
  readonly retryDelaysMs: readonly number[];
  readonly attemptTimeoutMs: number;
  /** Deliveries not yet acknowledged or given up that the bank keeps at most; past it, new ones are dropped and logged. */
  readonly maxOutstanding: number;
  readonly logger?: Logger | undefined;
}

/**
 * Posts signed callbacks to merchants' notify URLs and retries until one answers HTTP 200 with
 * `{"code":"SUCCESS"}`. Every attempt is signed afresh (new timestamp and nonce), so a merchant that rejects
 * replayed nonces still accepts a retry of a callback it failed to process.
 */
export class CallbackSender {
  private readonly agent: Agent;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly attemptsInFlight = new Set<AbortController>();
  private outstanding = 0;
  private closed = false;

  constructor(private readonly options: CallbackSenderOptions) {
    this.agent = new Agent({ connections: 16, headersTimeout: options.attemptTimeoutMs, bodyTimeout: options.attemptTimeoutMs, maxResponseSize: 64 * 1024 });
  }

  send(delivery: CallbackDelivery): void {
    if (this.closed) return;
    if (this.outstanding >= this.options.maxOutstanding) {
      this.options.logger?.warn({ outNo: delivery.outNo, notifyUrl: delivery.notifyUrl }, 'sandbox bank: too many callbacks outstanding; dropping this one');
      return;
    }
    this.outstanding += 1;
    void this.attempt(delivery, 0);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.attemptsInFlight) controller.abort();
    await this.agent.close();
  }

  private async attempt(delivery: CallbackDelivery, attemptIndex: number): Promise<void> {
    if (this.closed) return;
    const acknowledged = await this.post(delivery);
    const retryDelayMs = this.options.retryDelaysMs[attemptIndex];
    if (acknowledged || retryDelayMs === undefined || this.closed) {
      this.outstanding -= 1;
      if (!acknowledged && !this.closed) {
        this.options.logger?.warn({ outNo: delivery.outNo, notifyUrl: delivery.notifyUrl, attempts: attemptIndex + 1 }, 'sandbox bank: callback never acknowledged; giving up');
      }
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(delivery, attemptIndex + 1);
    }, retryDelayMs);
    this.timers.add(timer);
  }

  /** One attempt; true when the merchant acknowledged it. Never throws. */
  private async post(delivery: CallbackDelivery): Promise<boolean> {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), this.options.attemptTimeoutMs);
    this.attemptsInFlight.add(controller);
    try {
      const url = new URL(delivery.notifyUrl);
      const path = `${url.pathname}${url.search}`;
      const body = JSON.stringify(delivery.body);
      const headers = signedHeaders({
        mchId: delivery.mchId, method: 'POST', path, body, privateKey: this.options.bankPrivateKey, nowMs: Date.now(), nonce: randomBytes(16).toString('hex'),
      });
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { ...headers, [sandboxHeaders.callbackPath]: path, 'content-type': 'application/json' },
        body,
        signal: controller.signal,
      });
      const text = await response.body.text();
      return response.statusCode === 200 && isSuccessAcknowledgement(text);
    } catch (error) {
      if (!this.closed) this.options.logger?.info({ outNo: delivery.outNo, err: error }, 'sandbox bank: callback attempt failed');
      return false;
    } finally {
      clearTimeout(timeout);
      this.attemptsInFlight.delete(controller);
    }
  }
}

function isSuccessAcknowledgement(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && 'code' in parsed && parsed.code === 'SUCCESS';
  } catch {
    return false;
  }
}
