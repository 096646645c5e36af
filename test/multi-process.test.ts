import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlipaySdk } from 'alipay-sdk';
import type { Instance } from '../src/runtime.js';
import { startSibling, startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';

let base: TestInstance;
let api: Instance;
let worker: Instance;
let sink: NotifySink;

beforeAll(async () => {
  base = await startTestInstance();
  api = await startSibling(base, 'api');
  worker = await startSibling(base, 'worker');
  sink = await startNotifySink();
});
afterAll(async () => {
  await sink?.close();
  await worker?.stop();
  await api?.stop();
  await base?.stop();
});

describe('several api and worker processes on one database', () => {
  it('serve the same merchants and share the jobs without doing anything twice', async () => {
    expect(api.demoCredentialsFile).toBeNull(); // the demo app is created once, by the first process
    expect(worker.url).toBeNull();
    const sdkFor = (url: string) => new AlipaySdk({
      appId: base.demo.app_id, privateKey: base.demo.app_private_key, alipayPublicKey: base.demo.platform_public_key,
      gateway: `${url}/gateway.do`, signType: 'RSA2', keyType: 'PKCS8',
    });
    const clients = [sdkFor(base.url), sdkFor(api.url!)];
    const results = await Promise.all(Array.from({ length: 30 }, (_, index) => clients[index % 2]!.exec('tongbao.trade.pay', {
      bizContent: { out_trade_no: `multi-${index % 15}`, total_amount: '9.99', subject: 'multi', channel: 'sandbox', notify_url: sink.url },
    }, { validateSign: true })));
    for (const result of results) {
      expect(result.code === '10000' ? result.tradeStatus : result.subCode).toMatch(/^(TRADE_SUCCESS|ACQ.PAY_IN_PROGRESS)$/);
    }
    expect(await base.query("select count(*)::int as n from trades where out_trade_no like 'multi-%'")).toEqual([{ n: 15 }]);
    expect(await base.query("select count(*)::int as n from trades where out_trade_no like 'multi-%' and status = 'TRADE_SUCCESS'")).toEqual([{ n: 15 }]);
    // Each trade is notified exactly once, whichever worker delivered it.
    await sink.waitFor(15);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(sink.received).toHaveLength(15);
    expect(new Set(sink.received.map((post) => post.fields.out_trade_no)).size).toBe(15);
    expect((await base.admin('GET', '/ledger/check')).body.ok).toBe(true);
  });
});
