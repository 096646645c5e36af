import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/wait.js';

let t: TestInstance;
beforeAll(async () => {
  t = await startTestInstance({
    TONGBAO_CHANNEL_TIMEOUT_MS: '300',
    TONGBAO_BREAKER_FAILURES: '3',
    TONGBAO_BREAKER_HALF_OPEN_MS: '1000',
    // Queries far apart: only the pay calls below should reach the bank.
    TONGBAO_COMPENSATION_RETRY_SECONDS: '3600',
  });
});
afterAll(async () => { await t?.stop(); });

const pay = (outTradeNo: string, amount: string) => t.sdk().exec('tongbao.trade.pay', {
  bizContent: { out_trade_no: outTradeNo, total_amount: amount, subject: 'isolation', channel: 'sandbox' },
}, { validateSign: true });
const sandboxHealth = async () => (await t.admin('GET', '/channels/health')).body.channels.find((row: { channel: string }) => row.channel === 'sandbox');

describe('a channel that stops answering', () => {
  it('opens its breaker, is refused before anything is written, and closes again once it answers', async () => {
    expect(await sandboxHealth()).toMatchObject({ state: 'closed', calls: 0 });
    for (let i = 0; i < 3; i++) expect((await pay(`hang-${i}`, '50.04')).code).toBe('20000');
    const open = await sandboxHealth();
    expect(open).toMatchObject({ state: 'open', calls: 3, availability: 0 });

    const refused = await pay('while-open', '10.00');
    expect(refused).toMatchObject({ code: '40004', subCode: 'ACQ.CHANNEL_UNAVAILABLE' });
    expect(await t.query("select 1 from trades where out_trade_no = 'while-open'")).toHaveLength(0);

    const metrics = await fetch(`${t.url}/admin/metrics`, { headers: { authorization: `Bearer ${t.instance.adminToken}` } });
    const text = await metrics.text();
    expect(text).toMatch(/tongbao_channel_circuit_state\{channel="sandbox"\} 1/);
    expect(text).toMatch(/tongbao_channel_calls_total\{channel="sandbox",operation="pay",outcome="error"\} 3/);

    await until(sandboxHealth, (row) => row.state === 'open', 100);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const recovered = await pay('after-recovery', '10.00');
    expect(recovered).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS' });
    expect(await sandboxHealth()).toMatchObject({ state: 'closed' });
  });

  it('can be taken out of service and back by an operator', async () => {
    const isolated = await t.admin('POST', '/channels/sandbox/isolate');
    expect(isolated).toMatchObject({ status: 200, body: { state: 'isolated' } });
    expect(await pay('while-isolated', '10.00')).toMatchObject({ subCode: 'ACQ.CHANNEL_UNAVAILABLE' });
    expect(await t.admin('POST', '/channels/sandbox/release')).toMatchObject({ status: 200, body: { state: 'closed' } });
    expect(await pay('after-release', '10.00')).toMatchObject({ code: '10000' });
    expect((await t.admin('POST', '/channels/nowhere/isolate')).status).toBe(404);
  });
});
