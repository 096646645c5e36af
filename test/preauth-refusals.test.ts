import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatWallClock } from '../src/shared/time.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';
import { preauthClient, until } from './helpers/preauth.js';

let t: TestInstance;
let sink: NotifySink;
const p = preauthClient(() => t, () => sink.url);

beforeAll(async () => {
  t = await startTestInstance({ TONGBAO_CHANNEL_TIMEOUT_MS: '800', TONGBAO_COMPENSATION_RETRY_SECONDS: '0.5,0.5,0.5,0.5' });
  sink = await startNotifySink();
});
afterAll(async () => {
  await sink?.close();
  await t?.stop();
});

/** Runs a call that must be refused with `subCode` and checks that nothing at all changed. */
async function refused(subCode: string, call: () => Promise<Record<string, any>>) {
  const before = await p.snapshot();
  const answer = await call();
  expect(answer).toMatchObject({ subCode });
  expect(await p.snapshot()).toEqual(before);
  return answer;
}

describe('pre-authorization refuses bad input with a precise code and changes nothing', () => {
  beforeAll(async () => {
    expect(await p.freeze('bad-held', '100.00')).toMatchObject({ code: '10000', authStatus: 'AUTHORIZED' });
    await p.freeze('bad-completed', '100.00');
    expect(await p.complete('bad-completed', 'c1', '60.00')).toMatchObject({ code: '10000', authStatus: 'COMPLETED' });
    await p.freeze('bad-unfrozen', '10.00');
    expect(await p.unfreeze('bad-unfrozen', 'u1', '10.00')).toMatchObject({ code: '10000', authStatus: 'UNFROZEN' });
  });

  it('an unknown hold', async () => {
    await refused('AUTH.ORDER_NOT_EXIST', () => p.complete('bad-nope', 'c1', '1.00'));
    await refused('AUTH.ORDER_NOT_EXIST', () => p.call('tongbao.preauth.unfreeze', { auth_no: '20300101000000000000000', out_request_no: 'u', amount: '1.00' }));
    await refused('AUTH.ORDER_NOT_EXIST', () => p.call('tongbao.preauth.query', { out_order_no: 'bad-nope' }));
    await refused('isv.missing-parameter', () => p.call('tongbao.preauth.complete', { out_request_no: 'c', amount: '1.00' }));
    await refused('AUTH.OPERATION_NOT_EXIST', () => p.call('tongbao.preauth.query', { out_order_no: 'bad-held', out_request_no: 'never' }));
  });

  it('completing more than is held, in another currency, or with a malformed amount', async () => {
    await refused('AUTH.AMOUNT_EXCEEDED', () => p.complete('bad-held', 'c1', '100.01'));
    await refused('AUTH.CURRENCY_MISMATCH', () => p.complete('bad-held', 'c1', '10.00', { currency: 'USD' }));
    await refused('isv.invalid-amount', () => p.complete('bad-held', 'c1', '1.001'));
    await refused('isv.invalid-amount', () => p.complete('bad-held', 'c1', '0'));
  });

  it('a partial unfreeze, or a cancel that is not the whole completion', async () => {
    await refused('AUTH.FULL_AMOUNT_ONLY', () => p.unfreeze('bad-held', 'u1', '99.99'));
    await refused('AUTH.FULL_AMOUNT_ONLY', () => p.cancel('bad-completed', 'x1', '59.00'));
  });

  it('steps the hold is past', async () => {
    await refused('AUTH.ORDER_NOT_COMPLETED', () => p.cancel('bad-held', 'x1', '100.00'));
    await refused('AUTH.ORDER_HAS_COMPLETED', () => p.unfreeze('bad-completed', 'u1', '100.00'));
    await refused('AUTH.ORDER_HAS_COMPLETED', () => p.complete('bad-completed', 'c2', '10.00'));
    await refused('AUTH.ORDER_HAS_UNFROZEN', () => p.complete('bad-unfrozen', 'c1', '10.00'));
    await refused('AUTH.ORDER_HAS_UNFROZEN', () => p.cancel('bad-unfrozen', 'x1', '10.00'));
  });

  it('completing a hold past its deadline, before and after the expiry job released it', async () => {
    await p.freeze('bad-overdue', '20.00');
    // Past the deadline but not yet released: only the expiry job may touch it now.
    await t.query("update preauth_auths set expires_at = now() - interval '1 second' where out_order_no = 'bad-overdue'");
    const before = await p.auth('bad-overdue');
    expect(await p.complete('bad-overdue', 'c1', '20.00')).toMatchObject({ subCode: 'AUTH.ORDER_HAS_EXPIRED' });
    expect(await p.unfreeze('bad-overdue', 'u1', '20.00')).toMatchObject({ subCode: 'AUTH.ORDER_HAS_EXPIRED' });
    expect(await p.operations('bad-overdue')).toHaveLength(1);
    expect(await p.auth('bad-overdue')).toEqual(before);

    await t.query("select graphile_worker.add_job('preauth.expire', json_build_object('auth_no', $1::text), job_key => 'preauth-expire:' || $1)", [before.auth_no]);
    await until(() => p.auth('bad-overdue'), (row) => row.status === 'EXPIRED');
    await refused('AUTH.ORDER_HAS_EXPIRED', () => p.complete('bad-overdue', 'c1', '20.00'));
  });

  it('an expired hold the channel refuses to release: retried on the compensation schedule, then flagged', async () => {
    // 70.04: the sandbox bank declines every unfreeze of this hold.
    await p.freeze('bad-stuck', '70.04', { expire_time: formatWallClock(new Date(Date.now() + 1000), 'Asia/Shanghai') });
    const { auth_no: authNo } = await p.auth('bad-stuck');
    const [discrepancy] = await until(() => t.query("select * from discrepancies where kind = 'PREAUTH_EXPIRY_UNRESOLVED' and record_no = $1", [authNo]), (rows) => rows.length === 1, 40_000);
    expect(discrepancy).toMatchObject({ amount_minor: 7004n, status: 'OPEN' });
    const releases = (await p.operations('bad-stuck')).filter((operation) => operation.initiator === 'EXPIRY');
    expect(releases.map((operation) => [operation.out_request_no, operation.status, operation.failure_code])).toEqual(
      [1, 2, 3, 4].map((n) => [`expiry=${n}`, 'FAILED', 'OPERATION_DECLINED']),
    );
    expect(await p.auth('bad-stuck')).toMatchObject({ status: 'AUTHORIZED' });
    expect(await p.complete('bad-stuck', 'c1', '1.00')).toMatchObject({ subCode: 'AUTH.ORDER_HAS_EXPIRED' });
  });

  it('a request number reused with other parameters', async () => {
    await refused('AUTH.REQUEST_CONFLICT', () => p.complete('bad-completed', 'c1', '60.01'));
    await refused('AUTH.REQUEST_CONFLICT', () => p.unfreeze('bad-completed', 'c1', '60.00'));
    await refused('AUTH.REQUEST_CONFLICT', () => p.complete('bad-held', 'bad-held-freeze', '100.00'));
    await refused('AUTH.ORDER_CONFLICT', () => p.freeze('bad-held', '100.01'));
    await refused('AUTH.ORDER_CONFLICT', () => p.freeze('bad-held', '100.00', { out_request_no: 'another' }));
    await refused('AUTH.ORDER_CONFLICT', () => p.freeze('bad-held', '100.00', { currency: 'USD' }));
    // The same request again is no conflict: it answers as the first time.
    expect(await p.complete('bad-completed', 'c1', '60.00')).toMatchObject({ code: '10000', operationType: 'COMPLETE', status: 'SUCCEEDED' });
  });

  it('freeze parameters the gateway, the channel or the app refuse', async () => {
    const past = formatWallClock(new Date(Date.now() - 60_000), 'Asia/Shanghai');
    await refused('isv.invalid-parameter', () => p.freeze('bad-f1', '1.00', { expire_time: past }));
    await refused('isv.invalid-parameter', () => p.freeze('bad-f1', '1.00', { expire_time: '2030-02-30 10:00:00' }));
    await refused('isv.invalid-parameter', () => p.freeze('bad-f1', '1.00', { expire_time: formatWallClock(new Date(Date.now() + 400 * 86_400_000), 'Asia/Shanghai') }));
    await refused('isv.invalid-characters', () => p.freeze('bad=f1', '1.00'));
    await refused('ACQ.CHANNEL_NOT_SUPPORTED', () => p.freeze('bad-f1', '1.00', { channel: 'nowhere' }));
    await refused('ACQ.CHANNEL_NOT_SUPPORTED', () => p.freeze('bad-f1', '1.000', { currency: 'KWD' }));
    await refused('isv.currency-not-supported', () => p.freeze('bad-f1', '1.00', { currency: 'XXX' }));
    await refused('ACQ.TOTAL_FEE_EXCEED', () => p.freeze('bad-f1', '1000000.01'));
    await refused('isv.unknown-parameter', () => p.freeze('bad-f1', '1.00', { total_amount: '1.00' }));
    await refused('isv.missing-parameter', () => p.call('tongbao.preauth.freeze', { out_order_no: 'bad-f1', amount: '1.00', subject: 's', channel: 'sandbox' }));
  });
});

describe('pre-authorization under parallel requests', () => {
  it('parallel identical freezes make one hold and one operation', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => p.freeze('race-freeze', '40.00')));
    expect(results.every((result) => result.code === '10000')).toBe(true);
    expect(new Set(results.map((result) => result.authNo)).size).toBe(1);
    expect(await t.query("select * from preauth_auths where out_order_no = 'race-freeze'")).toHaveLength(1);
    expect(await p.operations('race-freeze')).toHaveLength(1);
  });

  it('parallel identical completes make one operation and one trade', async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => p.complete('race-freeze', 'same', '25.00')));
    expect(results.every((result) => result.code === '10000')).toBe(true);
    expect(new Set(results.map((result) => result.operationNo)).size).toBe(1);
    const completions = (await p.operations('race-freeze')).filter((operation) => operation.kind === 'COMPLETE');
    expect(completions).toHaveLength(1);
    expect(await t.query("select * from trades where out_trade_no = 'race-freeze=same'")).toHaveLength(1);
    expect(await t.query("select * from journal_transactions where kind = 'PREAUTH_COMPLETE' and reference = $1", [completions[0]!.operation_no])).toHaveLength(1);
  });

  it('parallel completes with different request numbers capture once; the others are refused', async () => {
    await p.freeze('race-many', '50.00');
    const results = await Promise.all(Array.from({ length: 6 }, (_, index) => p.complete('race-many', `c${index}`, '10.00')));
    expect(results.filter((result) => result.code === '10000')).toHaveLength(1);
    for (const result of results.filter((result) => result.code !== '10000')) {
      expect(result.subCode).toMatch(/^AUTH\.(OPERATION_IN_PROGRESS|ORDER_HAS_COMPLETED)$/);
    }
    expect(await p.auth('race-many')).toMatchObject({ status: 'COMPLETED', completed_amount_minor: 1000n });
    expect(await t.query("select * from trades where out_trade_no like 'race-many=%'")).toHaveLength(1);
  });

  it('a cancel and a refund of the same completion racing: one of them wins, never both', async () => {
    await p.freeze('race-cancel', '30.00');
    const completed = await p.complete('race-cancel', 'c1', '30.00');
    const [cancel, refund] = await Promise.all([
      p.cancel('race-cancel', 'x1', '30.00'),
      t.sdk().exec('tongbao.trade.refund', { bizContent: { trade_no: completed.tradeNo, refund_amount: '30.00', out_request_no: 'r1' } }, { validateSign: true }),
    ]);
    const [trade] = await t.query('select * from trades where trade_no = $1', [completed.tradeNo]);
    if (cancel.code === '10000') {
      expect(refund).toMatchObject({ subCode: expect.stringMatching(/^ACQ\.(REFUND_AMT_NOT_EQUAL_TOTAL|TRADE_NOT_ALLOW_REFUND)$/) });
      expect(trade).toMatchObject({ status: 'TRADE_CLOSED', close_reason: 'PREAUTH_COMPLETE_CANCEL' });
      expect(await p.auth('race-cancel')).toMatchObject({ status: 'AUTHORIZED' });
    } else {
      expect(cancel).toMatchObject({ subCode: 'AUTH.COMPLETION_REFUNDED' });
      expect(refund).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS' });
      expect(trade).toMatchObject({ status: 'TRADE_CLOSED', close_reason: 'FULL_REFUND' });
      expect(await p.auth('race-cancel')).toMatchObject({ status: 'COMPLETED' });
    }
    expect(trade!.refunded_amount_minor).toBe(3000n);
  });

  it('keeps the ledger balanced', async () => {
    expect((await t.admin('GET', '/ledger/check')).body).toMatchObject({ ok: true, unbalancedTransactions: [], balanceMismatches: [] });
  });
});
