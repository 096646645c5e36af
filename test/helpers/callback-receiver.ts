import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notificationSubjectNo, type ChannelAdapter, type NotificationVerification } from '../../src/channels/types.js';

export interface ReceivedCallback {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: string;
  readonly verification: NotificationVerification;
  /** Verified, but its replay key was spent already: refused. */
  readonly replayed: boolean;
  /** What the receiver answered. */
  readonly statusCode: number;
}

/**
 * Tongbao's callback route in miniature, for the channel adapters' tests: verifies each callback a simulator
 * sends with the adapter under test, refuses a replay key already spent (in memory here; the real route keeps
 * them in PostgreSQL), spends a key only when the callback is accepted, and acknowledges in the channel's words.
 */
export class CallbackReceiver {
  readonly received: ReceivedCallback[] = [];
  /** Subject numbers whose next callbacks are answered as failures (as if Tongbao could not store them), and how often. */
  readonly failNext = new Map<string, number>();
  /** Replay keys of the callbacks accepted. */
  readonly spent = new Set<string>();
  private server: Server | null = null;
  url = '';

  /** `passPath`: give the adapter the path the callback was posted to (channels that sign it). */
  constructor(private readonly adapter: () => Pick<ChannelAdapter, 'verifyNotification' | 'acknowledge'>, private readonly options: { passPath?: boolean } = {}) {}

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      let rawBody = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (rawBody += chunk));
      incoming.on('end', () => {
        const path = incoming.url ?? '';
        const verification = this.adapter().verifyNotification({ headers: incoming.headers, rawBody, ...(this.options.passPath ? { path } : {}) });
        const subject = (verification.ok ? notificationSubjectNo(verification.notification) : null) ?? '';
        const failures = this.failNext.get(subject) ?? 0;
        if (failures > 0) this.failNext.set(subject, failures - 1);
        const replayed = verification.ok && this.spent.has(verification.replayKey);
        const accepted = verification.ok && !replayed && failures === 0;
        if (accepted) this.spent.add(verification.replayKey);
        const acknowledgement = this.adapter().acknowledge(accepted);
        this.received.push({ path, headers: incoming.headers, rawBody, verification, replayed, statusCode: acknowledgement.statusCode });
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
