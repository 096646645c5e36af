import { createPrivateKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxCredentials } from '../src/channels/sandbox/index.js';
import { signedHeaders } from '../src/channels/sandbox/protocol.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { until } from './helpers/wait.js';

let t: TestInstance;
beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_CHANNEL_TIMEOUT_MS: '800', TONGBAO_COMPENSATION_RETRY_SECONDS: '0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5' });
});
afterAll(async () => { await t?.stop(); });

const tradeOf = async (outTradeNo: string) => (await t.query('select * from trades where out_trade_no = $1', [outTradeNo]))[0]!;
const pay = (outTradeNo: string, amount: string) => t.sdk().exec('tongbao.trade.pay', {
  bizContent: { out_trade_no: outTradeNo, total_amount: amount, subject: 'outcomes', channel: 'sandbox' },
}, { validateSign: true });

describe('channel outcomes', () => {
  it('a decline is a clear error and the order stays payable', async () => {
    const declined = await pay('outcome-decline', '40.04');
    expect(declined).toMatchObject({ code: '40004', subCode: 'ACQ.PAYMENT_FAIL' });
    expect(await tradeOf('outcome-decline')).toMatchObject({ status: 'WAIT_BUYER_PAY' });
    const poor = await pay('outcome-poor', '40.05');
    expect(poor).toMatchObject({ code: '40004', subCode: 'ACQ.BUYER_BALANCE_NOT_ENOUGH' });
  });

  it('an asynchronous channel answers WAIT_BUYER_PAY and the callback completes the trade', async () => {
    const pending = await pay('outcome-async', '60.01');
    expect(pending).toMatchObject({ code: '10000', tradeStatus: 'WAIT_BUYER_PAY' });
    const trade = await until(() => tradeOf('outcome-async'), (row) => row.status === 'TRADE_SUCCESS');
    expect(trade.paid_amount_minor).toBe(6001n);
  });

  it('an asynchronous failure leaves the order payable', async () => {
    await pay('outcome-async-fail', '60.02');
    const attempt = await until(async () => (await t.query('select a.* from pay_attempts a join trades tr using (trade_no) where tr.out_trade_no = $1', ['outcome-async-fail']))[0]!, (row) => row.status === 'FAILED');
    expect(attempt.failure_code).toBeTruthy();
    expect(await tradeOf('outcome-async-fail')).toMatchObject({ status: 'WAIT_BUYER_PAY' });
  });

  it('a pending result without callback is settled by compensation queries', async () => {
    await pay('outcome-query', '60.03');
    const trade = await until(() => tradeOf('outcome-query'), (row) => row.status === 'TRADE_SUCCESS');
    expect(trade.paid_amount_minor).toBe(6003n);
  });

  it('a hanging channel that charged: unknown at first, then the compensation query finds the success', async () => {
    const unknown = await pay('outcome-hang-charged', '50.05');
    expect(unknown).toMatchObject({ code: '20000', subCode: 'ACQ.SYSTEM_ERROR' });
    const trade = await until(() => tradeOf('outcome-hang-charged'), (row) => row.status === 'TRADE_SUCCESS');
    expect(trade.paid_amount_minor).toBe(5005n);
  });

  it('a hanging channel that did not charge: the attempt fails and the order can be paid again', async () => {
    const unknown = await pay('outcome-hang-free', '50.04');
    expect(unknown).toMatchObject({ code: '20000', subCode: 'ACQ.SYSTEM_ERROR' });
    const attemptsOf = () => t.query("select a.status from pay_attempts a join trades tr using (trade_no) where tr.out_trade_no = 'outcome-hang-free' order by a.created_at");
    await until(attemptsOf, (rows) => rows[0]?.status === 'FAILED');
    expect(await tradeOf('outcome-hang-free')).toMatchObject({ status: 'WAIT_BUYER_PAY' });
    // The order takes a new attempt (which hangs again, being the same magic amount).
    const again = await pay('outcome-hang-free', '50.04');
    expect(again).toMatchObject({ code: '20000', subCode: 'ACQ.SYSTEM_ERROR' });
    expect(await attemptsOf()).toHaveLength(2);
  });

  it('a second pay while an attempt is at the channel is refused as in progress', async () => {
    const first = pay('outcome-in-flight', '50.05');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = await pay('outcome-in-flight', '50.05');
    expect(second).toMatchObject({ code: '40004', subCode: 'ACQ.PAY_IN_PROGRESS' });
    expect(await first).toMatchObject({ code: '20000' });
    await until(() => tradeOf('outcome-in-flight'), (row) => row.status === 'TRADE_SUCCESS');
  });

  it('close refuses a paid trade, closes an unpaid one, and pay after close is refused', async () => {
    await pay('outcome-close-paid', '3.00');
    const refused = await t.sdk().exec('tongbao.trade.close', { bizContent: { out_trade_no: 'outcome-close-paid' } }, { validateSign: true });
    expect(refused).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_HAS_SUCCESS' });
    await t.sdk().exec('tongbao.trade.create', { bizContent: { out_trade_no: 'outcome-close-1', total_amount: '3.00', subject: 'x' } }, { validateSign: true });
    const closed = await t.sdk().exec('tongbao.trade.close', { bizContent: { out_trade_no: 'outcome-close-1' } }, { validateSign: true });
    expect(closed).toMatchObject({ code: '10000', tradeStatus: 'TRADE_CLOSED' });
    const payClosed = await t.sdk().exec('tongbao.trade.pay', { bizContent: { out_trade_no: 'outcome-close-1', channel: 'sandbox' } }, { validateSign: true });
    expect(payClosed).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_HAS_CLOSE' });
    const refundClosed = await t.sdk().exec('tongbao.trade.refund', { bizContent: { out_trade_no: 'outcome-close-1', refund_amount: '1.00', out_request_no: 'x' } }, { validateSign: true });
    expect(refundClosed).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' });
  });

  it('closing an order whose payment is pending asks the channel first', async () => {
    await pay('outcome-close-pending', '60.03');
    const closed = await t.sdk().exec('tongbao.trade.close', { bizContent: { out_trade_no: 'outcome-close-pending' } }, { validateSign: true });
    // The bank either closes the pending payment, or reports it paid; Tongbao follows the bank.
    if (closed.code === '10000') {
      expect(closed.tradeStatus).toBe('TRADE_CLOSED');
      expect((await t.query("select a.status, a.failure_code from pay_attempts a join trades tr using (trade_no) where tr.out_trade_no = 'outcome-close-pending'"))[0]).toMatchObject({ status: 'FAILED', failure_code: 'CLOSED' });
    } else {
      expect(closed.subCode).toBe('ACQ.TRADE_HAS_SUCCESS');
    }
  });

  it('the expiry job closes an unpaid order at its deadline, and pay after the deadline is refused', async () => {
    const created = await t.sdk().exec('tongbao.trade.create', { bizContent: { out_trade_no: 'outcome-expire', total_amount: '3.00', subject: 'x', timeout_express: '1m' } }, { validateSign: true });
    await t.query("update trades set expires_at = now() - interval '1 second' where trade_no = $1", [created.tradeNo]);
    await t.query("select graphile_worker.add_job('trade.expire', json_build_object('trade_no', $1::text), job_key => 'trade-expire:' || $1)", [created.tradeNo]);
    const trade = await until(() => tradeOf('outcome-expire'), (row) => row.status === 'TRADE_CLOSED');
    expect(trade.close_reason).toBe('EXPIRED');

    const late = await t.sdk().exec('tongbao.trade.create', { bizContent: { out_trade_no: 'outcome-expire-2', total_amount: '3.00', subject: 'x' } }, { validateSign: true });
    await t.query("update trades set expires_at = now() - interval '1 second' where trade_no = $1", [late.tradeNo]);
    const refused = await t.sdk().exec('tongbao.trade.pay', { bizContent: { out_trade_no: 'outcome-expire-2', channel: 'sandbox' } }, { validateSign: true });
    expect(refused).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_HAS_CLOSE' });
    expect(await tradeOf('outcome-expire-2')).toMatchObject({ status: 'TRADE_CLOSED', close_reason: 'EXPIRED' });
  });

  it('the periodic sweep expires overdue orders and resumes queries a crash left unscheduled', async () => {
    const created = await t.sdk().exec('tongbao.trade.create', { bizContent: { out_trade_no: 'outcome-sweep-expire', total_amount: '3.00', subject: 'x' } }, { validateSign: true });
    await t.query("update trades set expires_at = now() - interval '1 second' where trade_no = $1", [created.tradeNo]);

    // A hanging charge: the answer is unknown and a compensation query is scheduled...
    const unknown = await pay('outcome-sweep-query', '50.05');
    expect(unknown.code).toBe('20000');
    const [attempt] = await t.query("select a.attempt_no from pay_attempts a join trades tr using (trade_no) where tr.out_trade_no = 'outcome-sweep-query'");
    // ...then lost, as if the process died before scheduling it, and the attempt looks old.
    await t.query("select graphile_worker.remove_job('pay-query:' || $1)", [attempt!.attempt_no]);
    await t.query("update pay_attempts set updated_at = now() - interval '1 minute' where attempt_no = $1", [attempt!.attempt_no]);

    await t.query("select graphile_worker.add_job('trade.sweep', '{}'::json)");
    expect((await until(() => tradeOf('outcome-sweep-expire'), (row) => row.status === 'TRADE_CLOSED')).close_reason).toBe('EXPIRED');
    expect((await until(() => tradeOf('outcome-sweep-query'), (row) => row.status === 'TRADE_SUCCESS')).paid_amount_minor).toBe(5005n);
  });

  it('a late channel success on a closed order is booked to suspense, flagged and reversed, never lost', async () => {
    const declined = await pay('outcome-late', '40.04');
    expect(declined.subCode).toBe('ACQ.PAYMENT_FAIL');
    await t.sdk().exec('tongbao.trade.close', { bizContent: { out_trade_no: 'outcome-late' } }, { validateSign: true });
    const [attempt] = await t.query("select a.* from pay_attempts a join trades tr using (trade_no) where tr.out_trade_no = 'outcome-late'");
    // The channel changes its mind and calls back with a success (a signed, valid callback).
    const [config] = await t.query("select config_sealed from channel_configs where channel = 'sandbox'");
    const credentials = JSON.parse(t.instance.context.secrets.open(config!.config_sealed)) as SandboxCredentials;
    const body = JSON.stringify({ event: 'payment', bank_txn_no: 'B-late-1', out_trade_no: attempt!.attempt_no, status: 'SUCCEEDED', amount: '4004', currency: 'CNY', paid_at: new Date().toISOString() });
    const path = '/channels/sandbox/notify';
    const headers = signedHeaders({ mchId: credentials.mchId, method: 'POST', path, body, privateKey: createPrivateKey(credentials.bankPrivateKeyPem), nowMs: Date.now(), nonce: randomBytes(16).toString('hex') });
    const response = await fetch(`${t.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'X-Sandbox-Path': path }, body });
    expect(response.status).toBe(200);

    expect(await tradeOf('outcome-late')).toMatchObject({ status: 'TRADE_CLOSED', paid_amount_minor: 0n });
    const [discrepancy] = await t.query("select * from discrepancies where kind = 'LATE_SUCCESS' and record_no = $1", [attempt!.attempt_no]);
    expect(discrepancy).toMatchObject({ amount_minor: 4004n });
    const reversal = await until(async () => (await t.query("select * from refunds where kind = 'REVERSAL' and attempt_no = $1", [attempt!.attempt_no]))[0], (row) => row !== undefined && row.status !== 'REFUND_PROCESSING');
    // The sandbox bank never really took this money, so it refuses the reversal: the discrepancy stays open for operators.
    expect(reversal!.status).toBe('REFUND_FAILED');
    expect((await t.admin('GET', '/discrepancies?status=OPEN')).body.discrepancies.some((row: any) => row.record_no === attempt!.attempt_no)).toBe(true);
    const [suspense] = await t.query("select sum(b.balance_minor)::bigint as balance from ledger_accounts a join ledger_balances b using (account_id) where a.code = 'platform:suspense:CNY'");
    expect(suspense!.balance).toBe(4004n);

    // The same callback again (a replay) is refused and changes nothing.
    const replay = await fetch(`${t.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', 'X-Sandbox-Path': path }, body });
    expect(replay.status).toBe(400);
    const tampered = await fetch(`${t.url}${path}`, { method: 'POST', headers: { ...headers, [Object.keys(headers)[2]!]: 'fresh-nonce', 'content-type': 'application/json' }, body: body.replace('4004', '9999') });
    expect(tampered.status).toBe(400);
    expect(await t.query("select * from journal_transactions where kind = 'PAYMENT_UNMATCHED' and reference = $1", [attempt!.attempt_no])).toHaveLength(1);
  });

  it('keeps the ledger balanced through all of it', async () => {
    expect((await t.admin('GET', '/ledger/check')).body).toMatchObject({ ok: true });
  });
});
