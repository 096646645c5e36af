/**
 * Stands in for Tongbao's callback route in tests: a node:http server that hands each notification the
 * simulated Alipay posts to the adapter's verifyNotification and answers with its acknowledge.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { notificationSubjectNo, type ChannelAdapter, type NotificationVerification } from '../../../src/channels/types.js';

export interface Received {
  readonly path: string;
  readonly rawBody: string;
  readonly verification: NotificationVerification | null;
}

/** Records every post with its verification; `about(no)` picks the verified ones about one number. */
export class Receiver {
  readonly received: Received[] = [];
  /** Answers the next N posts with HTTP 500 without reading them, as a Tongbao whose database is down. */
  dropNext = 0;
  url = '';
  private server: Server | null = null;

  constructor(private readonly adapter: () => Pick<ChannelAdapter, 'verifyNotification' | 'acknowledge'>) {}

  async start(): Promise<void> {
    this.server = createServer((incoming, outgoing) => {
      let rawBody = '';
      incoming.setEncoding('utf8');
      incoming.on('data', (chunk: string) => (rawBody += chunk));
      incoming.on('end', () => {
        if (this.dropNext > 0) {
          this.dropNext -= 1;
          this.received.push({ path: incoming.url ?? '', rawBody, verification: null });
          return void outgoing.writeHead(500).end('database unavailable');
        }
        const verification = this.adapter().verifyNotification({ headers: incoming.headers, rawBody });
        this.received.push({ path: incoming.url ?? '', rawBody, verification });
        const ack = this.adapter().acknowledge(verification.ok);
        outgoing.writeHead(ack.statusCode, { 'content-type': ack.contentType }).end(ack.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Verified notifications about this number. */
  about(no: string): NotificationVerification[] {
    return this.received.flatMap(({ verification }) => (verification?.ok && notificationSubjectNo(verification.notification) === no ? [verification] : []));
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Polls until `find` returns something, or fails after timeoutMs. */

export { waitFor } from '../../helpers/wait.js';
