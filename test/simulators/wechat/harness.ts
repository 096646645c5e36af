/**
 * What the WeChat channel tests share: a stand-in for Tongbao's callback route (it verifies each callback
 * with the adapter and answers with adapter.acknowledge), request builders with unique numbers, and a
 * polling wait.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notificationSubjectNo, type ChannelAdapter, type ChannelPayRequest, type ChannelRefundRequest, type NotificationVerification } from '../../../src/channels/types.js';

export interface ReceivedCallback {
  readonly rawBody: string;
  readonly verification: NotificationVerification;
  readonly statusCode: number;
}

export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  /** Subject numbers whose next callbacks Tongbao fails to process (answered FAIL), and how many times. */
  readonly failNext = new Map<string, number>();
  private server: Server | null = null;
  url = '';

  constructor(private readonly adapter: () => ChannelAdapter) {}

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      let rawBody = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (rawBody += chunk));
      incoming.on('end', () => {
        const verification = this.adapter().verifyNotification({ headers: incoming.headers, rawBody, path: incoming.url ?? '' });
        const subject = verification.ok ? notificationSubjectNo(verification.notification) : '';
        const failures = this.failNext.get(subject) ?? 0;
        if (failures > 0) this.failNext.set(subject, failures - 1);
        const acknowledgement = this.adapter().acknowledge(verification.ok && failures === 0);
        this.received.push({ rawBody, verification, statusCode: acknowledgement.statusCode });
        outgoing.writeHead(acknowledgement.statusCode, { 'content-type': acknowledgement.contentType }).end(acknowledgement.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every callback that verified and is about this number. */
  about(subjectNo: string): ReceivedCallback[] {
    return this.received.filter(({ verification }) => verification.ok && notificationSubjectNo(verification.notification) === subjectNo);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

let counter = 0;

/** A number WeChat accepts as out_trade_no / out_refund_no, unique within the run. */
export function uniqueNo(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now()}${String(counter).padStart(4, '0')}${randomBytes(2).toString('hex')}`;
}

export function payRequestFor(notifyBase: string, amountMinor: bigint, overrides: Partial<ChannelPayRequest> = {}): ChannelPayRequest {
  const attemptNo = overrides.attemptNo ?? uniqueNo('A');
  return {
    attemptNo,
    tradeNo: `T${attemptNo}`,
    amountMinor,
    currency: 'CNY',
    subject: '通宝测试商品',
    expiresAt: new Date(Date.now() + 15 * 60 * 1000),
    notifyUrl: `${notifyBase}/channels/wechat/notify`,
    ...overrides,
  };
}

export function refundRequestFor(notifyBase: string, attemptNo: string, amountMinor: bigint, overrides: Partial<ChannelRefundRequest> = {}): ChannelRefundRequest {
  return {
    refundNo: uniqueNo('R'),
    attemptNo,
    channelTradeNo: null,
    amountMinor,
    currency: 'CNY',
    reason: '顾客退货',
    notifyUrl: `${notifyBase}/channels/wechat/notify`,
    ...overrides,
  };
}

export async function waitFor<T>(find: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('waited too long');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
