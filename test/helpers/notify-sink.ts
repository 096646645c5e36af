import { createServer, type Server } from 'node:http';

export interface ReceivedPost {
  at: number;
  fields: Record<string, string>;
  raw: string;
}

export interface NotifySink {
  url: string;
  received: ReceivedPost[];
  /** Answers for the next requests, in order; when used up, every request gets `success`. */
  script: Array<{ status: number; body: string } | 'hang'>;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedPost[]>;
  close(): Promise<void>;
}

/** A merchant notification endpoint for tests: records every POST and answers as scripted. */
export async function startNotifySink(): Promise<NotifySink> {
  const sink = { received: [] as ReceivedPost[], script: [] as NotifySink['script'] };
  const server: Server = createServer((request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => { raw += chunk; });
    request.on('end', () => {
      sink.received.push({ at: Date.now(), fields: Object.fromEntries(new URLSearchParams(raw)), raw });
      const answer = sink.script.shift() ?? { status: 200, body: 'success' };
      if (answer === 'hang') return; // never answers; the notifier's timeout must give up
      response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    get received() { return sink.received; },
    get script() { return sink.script; },
    set script(value) { sink.script = value; },
    async waitFor(count, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (sink.received.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} notifications, got ${sink.received.length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return sink.received;
    },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
