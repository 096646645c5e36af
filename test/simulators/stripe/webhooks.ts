/**
 * Webhook delivery as Stripe does it: each event is POSTed as pretty-printed JSON to every endpoint that
 * enabled its type, signed with the endpoint's secret in the Stripe-Signature header
 * (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.payload">`). A delivery that is not answered 2xx is retried
 * after the configured delays; every retry is signed afresh with a new timestamp, as Stripe does.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import type { EventRecord } from './objects.js';

/** The Stripe-Signature header for a payload signed at `timestampSeconds` with `secret`. */
export function stripeSignatureHeader(payload: string, secret: string, timestampSeconds: number): string {
  const signature = createHmac('sha256', secret).update(`${timestampSeconds}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSeconds},v1=${signature}`;
}

export interface WebhookEndpoint {
  readonly url: string;
  readonly secret: string;
  /** Event types delivered to it; ['*'] for all. */
  readonly enabledEvents: readonly string[];
}

export interface Delivery {
  readonly eventId: string;
  readonly type: string;
  readonly url: string;
  readonly attempt: number;
  /** The endpoint's HTTP status, or 0 when it did not answer. */
  readonly statusCode: number;
}

export class WebhookSender {
  readonly endpoints: WebhookEndpoint[] = [];
  readonly deliveries: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly retryDelaysMs: readonly number[], private readonly attemptTimeoutMs = 5000) {}

  send(event: EventRecord): void {
    for (const endpoint of this.endpoints) {
      if (endpoint.enabledEvents.includes('*') || endpoint.enabledEvents.includes(event.type)) this.schedule(endpoint, event, 1, 0);
    }
  }

  /** Sends one event to one endpoint now, as Stripe's "resend" does. */
  resend(event: EventRecord, endpoint: WebhookEndpoint): void {
    this.schedule(endpoint, event, 1, 0, false);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(endpoint: WebhookEndpoint, event: EventRecord, attempt: number, delayMs: number, retry = true): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.deliver(endpoint, event, attempt).then((statusCode) => {
        this.deliveries.push({ eventId: event.id, type: event.type, url: endpoint.url, attempt, statusCode });
        const nextDelay = this.retryDelaysMs[attempt - 1];
        if (retry && (statusCode < 200 || statusCode > 299) && nextDelay !== undefined) this.schedule(endpoint, event, attempt + 1, nextDelay);
      });
    }, delayMs);
    this.timers.add(timer);
  }

  private deliver(endpoint: WebhookEndpoint, event: EventRecord, attempt: number): Promise<number> {
    const payload = JSON.stringify(event, null, 2);
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
      'stripe-signature': stripeSignatureHeader(payload, endpoint.secret, Math.floor(Date.now() / 1000)),
      'x-simulator-attempt': String(attempt),
    };
    return new Promise((resolve) => {
      const outgoing = request(endpoint.url, { method: 'POST', headers, timeout: this.attemptTimeoutMs }, (answer) => {
        answer.resume();
        answer.on('end', () => resolve(answer.statusCode ?? 0));
        answer.on('error', () => resolve(0));
      });
      outgoing.on('timeout', () => outgoing.destroy());
      outgoing.on('error', () => resolve(0));
      outgoing.end(payload);
    });
  }
}
