import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxAdapter } from '../../src/channels/sandbox/index.js';
import { notificationSubjectNo, type NotificationVerification } from '../../src/channels/types.js';

/** Helpers for the sandbox channel's tests (src/channels/sandbox/*.test.ts): a callback endpoint and waiting. */

export interface ReceivedCallback {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly verification: NotificationVerification;
}

/** Stands in for Tongbao's callback route: verifies each callback with the adapter and acknowledges it. */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  /** Numbers (out_trade_no / out_refund_no) whose next callbacks are answered FAIL, and how many times. */
  readonly failNext = new Map<string, number>();
  private server: Server | null = null;
  url = '';

  constructor(private readonly adapter: () => SandboxAdapter) {}

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      let rawBody = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (rawBody += chunk));
      incoming.on('end', () => {
        const verification = this.adapter().verifyNotification({ headers: incoming.headers, rawBody });
        this.received.push({ path: incoming.url ?? '', headers: incoming.headers, rawBody, verification });
        const outNo = verification.ok ? notificationSubjectNo(verification.notification) : '';
        const failures = this.failNext.get(outNo) ?? 0;
        if (failures > 0) this.failNext.set(outNo, failures - 1);
        const acknowledgement = this.adapter().acknowledge(verification.ok && failures === 0);
        outgoing.writeHead(acknowledgement.statusCode, { 'content-type': acknowledgement.contentType }).end(acknowledgement.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every callback that verified and is about this number. */
  about(outNo: string): ReceivedCallback[] {
    return this.received.filter(({ verification }) => {
      if (!verification.ok) return false;
      return notificationSubjectNo(verification.notification) === outNo;
    });
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

export async function waitFor<T>(find: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('waited too long');
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
