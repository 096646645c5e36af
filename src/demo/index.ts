import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { AlipaySdk } from 'alipay-sdk';
import type { DemoCredentials } from '../bootstrap.js';

interface DemoOptions {
  credentialsFile: string;
  /** The gateway's time zone: alipay-sdk writes timestamps in local time, so the demo adopts it. */
  timeZone: string;
  out: NodeJS.WritableStream;
}

interface ReceivedNotification {
  fields: Record<string, string>;
  verified: boolean;
}

/** A merchant's notification endpoint: verifies each notification and answers "success". */
function startNotifyEndpoint(sdk: AlipaySdk, onNotification: (notification: ReceivedNotification) => void): Promise<{ server: Server; url: string }> {
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => { body += chunk; });
    request.on('end', () => {
      const fields = Object.fromEntries(new URLSearchParams(body));
      const verified = sdk.checkNotifySignV2(fields);
      onNotification({ fields, verified });
      response.writeHead(200, { 'content-type': 'text/plain' }).end(verified ? 'success' : 'fail');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/notify` });
  }));
}

/**
 * `tongbao demo`: behaves as a business system against a running Tongbao with the official alipay-sdk:
 * create an order, pay it through the sandbox channel, receive and verify the notification on a local
 * endpoint, refund part of it, and query. Prints each step; returns false if any step went wrong.
 */
export async function runDemo(options: DemoOptions): Promise<boolean> {
  process.env.TZ = options.timeZone;
  const credentials = JSON.parse(readFileSync(options.credentialsFile, 'utf8')) as DemoCredentials;
  const say = (line: string) => options.out.write(`${line}\n`);
  const sdk = new AlipaySdk({
    appId: credentials.app_id,
    privateKey: credentials.app_private_key,
    alipayPublicKey: credentials.platform_public_key,
    gateway: credentials.gateway_url,
    signType: 'RSA2',
    keyType: 'PKCS8',
    timeout: 30_000,
  });
  const notifications: ReceivedNotification[] = [];
  const waiters: Array<() => void> = [];
  const endpoint = await startNotifyEndpoint(sdk, (notification) => {
    notifications.push(notification);
    waiters.splice(0).forEach((wake) => wake());
  });
  const waitFor = async (match: (fields: Record<string, string>) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = notifications.find((notification) => match(notification.fields));
      if (found) return found;
      if (Date.now() > deadline) return undefined;
      await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 500); });
    }
  };

  let ok = true;
  const check = (condition: boolean, message: string) => {
    say(`${condition ? '  ✔' : '  ✘'} ${message}`);
    ok &&= condition;
  };
  try {
    const outTradeNo = `demo-${Date.now()}`;
    say(`1. tongbao.trade.create ${outTradeNo} for 88.88 CNY (notify_url ${endpoint.url})`);
    const created = await sdk.exec('tongbao.trade.create', { notifyUrl: endpoint.url, bizContent: { out_trade_no: outTradeNo, total_amount: '88.88', subject: 'Tongbao demo order' } }, { validateSign: true });
    check(created.code === '10000' && created.tradeStatus === 'WAIT_BUYER_PAY', `created trade ${created.tradeNo}: ${created.tradeStatus ?? created.subMsg}`);

    say('2. tongbao.trade.pay through the sandbox channel');
    const paid = await sdk.exec('tongbao.trade.pay', { bizContent: { out_trade_no: outTradeNo, channel: 'sandbox' } }, { validateSign: true });
    check(paid.code === '10000' && paid.tradeStatus === 'TRADE_SUCCESS', `paid: ${paid.tradeStatus ?? paid.subMsg} at ${paid.gmtPayment ?? '-'}`);

    say('3. waiting for the signed trade_status_sync notification');
    const tradeNotification = await waitFor((fields) => fields.notify_type === 'trade_status_sync' && fields.out_trade_no === outTradeNo);
    check(Boolean(tradeNotification?.verified), tradeNotification ? `received ${tradeNotification.fields.trade_status}, signature verified with checkNotifySignV2: ${tradeNotification.verified}` : 'no notification within 30 s');

    say('4. tongbao.trade.refund 10.00 (out_request_no refund-1)');
    const refunded = await sdk.exec('tongbao.trade.refund', { bizContent: { out_trade_no: outTradeNo, refund_amount: '10.00', out_request_no: 'refund-1', refund_reason: 'demo' } }, { validateSign: true });
    check(refunded.code === '10000' && refunded.refundStatus === 'REFUND_SUCCESS', `refund ${refunded.refundNo}: ${refunded.refundStatus ?? refunded.subMsg}, refunded so far ${refunded.refundFee}`);
    const refundNotification = await waitFor((fields) => fields.notify_type === 'refund_status_sync' && fields.out_trade_no === outTradeNo);
    check(Boolean(refundNotification?.verified), refundNotification ? `received refund_status_sync ${refundNotification.fields.refund_status}, verified: ${refundNotification.verified}` : 'no refund notification within 30 s');

    say('5. tongbao.trade.query');
    const queried = await sdk.exec('tongbao.trade.query', { bizContent: { out_trade_no: outTradeNo } }, { validateSign: true });
    check(queried.code === '10000' && queried.refundFee === '10.00', `trade ${queried.tradeNo}: ${queried.tradeStatus}, total ${queried.totalAmount}, refunded ${queried.refundFee}`);
  } catch (error) {
    check(false, `the demo stopped: ${(error as Error).message}`);
  } finally {
    endpoint.server.close();
  }
  say(ok ? 'Demo finished: every step checked out.' : 'Demo finished with failures.');
  return ok;
}
