/**
 * The simulated Alipay's asynchronous notifications: form-encoded POSTs signed RSA2 over the sorted
 * parameters without sign and sign_type, retried until the receiver answers exactly "success".
 * A notification keeps its notify_id across retries (Alipay documents that the id stays valid until
 * "success" is printed); each retry is stamped afresh (notify_time, or utc_timestamp for messages) and
 * signed again. Real Alipay retries over 25 hours (4m, 10m, 10m, 1h, 2h, 6h, 15h); the delays here are
 * the test's.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { rsaSign, signContent } from '../../../src/shared/crypto.js';
import { beijing } from './books.js';

export interface Delivery {
  readonly url: string;
  readonly params: Readonly<Record<string, string>>;
  readonly statusCode: number | null;
  readonly answer: string;
}

export interface NotifierOptions {
  readonly appId: string;
  readonly alipayPrivateKeyPem: string;
  readonly retryDelaysMs: readonly number[];
  readonly clock: () => Date;
}

export class Notifier {
  readonly deliveries: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: NotifierOptions) {}

  /** Signs the content as Alipay would at this moment; exposed so tests can craft notifications. */
  sign(content: Readonly<Record<string, string>>, notifyId: string, kind: 'trade' | 'message'): Record<string, string> {
    const stamp: Record<string, string> = kind === 'trade' ? { notify_time: beijing(this.options.clock()) } : { utc_timestamp: String(this.options.clock().getTime()) };
    // A test may set any field itself (a stale notify_time, another app_id); the rest is Alipay's, stamped now.
    const params: Record<string, string> = {
      ...stamp,
      notify_id: notifyId,
      app_id: this.options.appId,
      charset: 'utf-8',
      version: kind === 'trade' ? '1.0' : '1.1',
      sign_type: 'RSA2',
      ...content,
    };
    params.sign = rsaSign(signContent(params, ['sign', 'sign_type']), this.options.alipayPrivateKeyPem);
    return params;
  }

  send(url: string, content: Readonly<Record<string, string>>, kind: 'trade' | 'message'): void {
    const notifyId = randomBytes(16).toString('hex');
    this.attempt(url, content, kind, notifyId, 0);
  }

  private attempt(url: string, content: Readonly<Record<string, string>>, kind: 'trade' | 'message', notifyId: string, attemptIndex: number): void {
    if (this.closed) return;
    const work = this.post(url, this.sign(content, notifyId, kind)).then((delivered) => {
      const delayMs = this.options.retryDelaysMs[attemptIndex];
      if (delivered || delayMs === undefined || this.closed) return;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.attempt(url, content, kind, notifyId, attemptIndex + 1);
      }, delayMs);
      this.timers.add(timer);
    });
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
  }

  private async post(url: string, params: Record<string, string>): Promise<boolean> {
    try {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams(params).toString(),
        signal: AbortSignal.timeout(2000),
      });
      const answer = await response.body.text();
      this.deliveries.push({ url, params, statusCode: response.statusCode, answer });
      return answer.trim() === 'success';
    } catch (error) {
      this.deliveries.push({ url, params, statusCode: null, answer: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}
