import { createPrivateKey, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxCredentials } from '../src/channels/sandbox/index.js';
import { signedHeaders } from '../src/channels/sandbox/protocol.js';
import { formatWallClock } from '../src/shared/time.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';
import { preauthClient, until } from './helpers/preauth.js';

const overrides = {
  TONGBAO_CHANNEL_TIMEOUT_MS: '800',
  TONGBAO_COMPENSATION_RETRY_SECONDS: '0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5',
  TONGBAO_NOTIFY_RETRY_SECONDS: '0.3,0.3,0.3',
  TONGBAO_NOTIFY_TIMEOUT_MS: '1000',
};

let t: TestInstance;
let sink: NotifySink;
const p = preauthClient(() => t, () => sink.url);

beforeAll(async () => {
  t = await startTestInstance(overrides);
  sink = await startNotifySink();
});
afterAll(async () => {
  await sink?.close();
  await t?.stop();
});

/**
 * The preauth_status_sync notifications received for one hold, in the order its operations were written
 * (business numbers from different connections are not in creation order, so the database says).
 */
async function notificationsOf(outOrderNo: string, count: number) {
  const mine = () => sink.received.filter((post) => post.fields.notify_type === 'preauth_status_sync' && post.fields.out_order_no === outOrderNo);
  await until(async () => mine().length, (length) => length >= count);
  const order = (await p.operations(outOrderNo)).map((operation) => operation.operation_no as string);
  return mine().map((post) => post.fields).sort((a, b) => order.indexOf(a.operation_no!) - order.indexOf(b.operation_no!));
}

const held = async (currency = 'CNY') => ({
  channel: await p.balance(`channel:sandbox:preauth_held:${currency}`),
  merchant: await p.balance(`merchant:${await p.merchantId()}:preauth_held:${currency}`),
  pending: await p.balance(`merchant:${await p.merchantId()}:pending:${currency}`),
});

describe('pre-authorization through the gateway with the official alipay-sdk', () => {
  it('freezes, completes part of the hold and releases the rest; the capture is a refundable trade', async () => {
    const before = await held();
    const frozen = await p.freeze('pa-partial', '500.00');
    expect(frozen).toMatchObject({
      code: '10000', outOrderNo: 'pa-partial', authStatus: 'AUTHORIZED', operationType: 'FREEZE', status: 'SUCCEEDED',
      amount: '500.00', totalFreezeAmount: '500.00', restAmount: '500.00', totalPayAmount: '0.00', currency: 'CNY', channel: 'sandbox',
    });
    expect(frozen.timeExpire).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(await held()).toEqual({ channel: before.channel + 50_000n, merchant: before.merchant + 50_000n, pending: before.pending });

    const completed = await p.complete('pa-partial', 'c1', '320.00');
    expect(completed).toMatchObject({
      code: '10000', authNo: frozen.authNo, authStatus: 'COMPLETED', operationType: 'COMPLETE', status: 'SUCCEEDED',
      amount: '320.00', totalFreezeAmount: '500.00', totalPayAmount: '320.00', restAmount: '0.00',
    });
    expect(completed.tradeNo).toMatch(/^\d{24}$/);
    // The whole hold is released and only the captured amount is owed to the merchant.
    expect(await held()).toEqual({ channel: before.channel, merchant: before.merchant, pending: before.pending + 32_000n });
    const [posting] = await t.query("select count(*) as entries from journal_entries e join journal_transactions j using (transaction_id) where j.kind = 'PREAUTH_COMPLETE' and j.reference = $1", [completed.operationNo]);
    expect(posting!.entries).toBe(4n);

    const trade = await t.sdk().exec('tongbao.trade.query', { bizContent: { trade_no: completed.tradeNo } }, { validateSign: true });
    expect(trade).toMatchObject({ code: '10000', tradeStatus: 'TRADE_SUCCESS', totalAmount: '320.00', receiptAmount: '320.00', outTradeNo: 'pa-partial=c1', channel: 'sandbox' });
    const refund = await t.sdk().exec('tongbao.trade.refund', { bizContent: { trade_no: completed.tradeNo, refund_amount: '20.00', out_request_no: 'r1' } }, { validateSign: true });
    expect(refund).toMatchObject({ code: '10000', refundStatus: 'REFUND_SUCCESS', refundFee: '20.00' });
    expect((await held()).pending).toBe(before.pending + 30_000n);

    const queried = await p.call('tongbao.preauth.query', { auth_no: frozen.authNo });
    expect(queried).toMatchObject({ code: '10000', authStatus: 'COMPLETED', totalPayAmount: '320.00', restAmount: '0.00', tradeNo: completed.tradeNo });
    expect(queried.operationNo).toBeUndefined();
    const queriedFreeze = await p.call('tongbao.preauth.query', { out_order_no: 'pa-partial', out_request_no: 'pa-partial-freeze' });
    expect(queriedFreeze).toMatchObject({ code: '10000', operationType: 'FREEZE', status: 'SUCCEEDED', authStatus: 'COMPLETED' });

    const [freezeNote, completeNote] = await notificationsOf('pa-partial', 2);
    for (const note of [freezeNote!, completeNote!]) expect(t.sdk().checkNotifySignV2(note)).toBe(true);
    expect(freezeNote).toMatchObject({ operation_type: 'FREEZE', status: 'SUCCEEDED', auth_status: 'AUTHORIZED', rest_amount: '500.00', auth_no: frozen.authNo });
    expect(completeNote).toMatchObject({
      operation_type: 'COMPLETE', out_request_no: 'c1', status: 'SUCCEEDED', amount: '320.00', total_freeze_amount: '500.00',
      total_pay_amount: '320.00', rest_amount: '0.00', trade_no: completed.tradeNo, operation_no: completed.operationNo,
    });
    expect(completeNote!.gmt_trans).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(t.sdk().checkNotifySignV2({ ...completeNote!, amount: '500.00' })).toBe(false);
  });

  it('unfreezes the whole hold; the same request again answers the same, a new one is refused', async () => {
    const before = await held();
    const frozen = await p.freeze('pa-unfreeze', '80.00');
    const unfrozen = await p.unfreeze('pa-unfreeze', 'u1', '80.00');
    expect(unfrozen).toMatchObject({ code: '10000', authStatus: 'UNFROZEN', operationType: 'UNFREEZE', status: 'SUCCEEDED', restAmount: '0.00', totalPayAmount: '0.00' });
    expect(await p.unfreeze('pa-unfreeze', 'u1', '80.00')).toMatchObject({ code: '10000', operationNo: unfrozen.operationNo, authStatus: 'UNFROZEN' });
    expect(await p.unfreeze('pa-unfreeze', 'u2', '80.00')).toMatchObject({ code: '40004', subCode: 'AUTH.ORDER_HAS_UNFROZEN' });
    expect(await held()).toEqual(before);
    expect(await p.operations('pa-unfreeze')).toHaveLength(2);
    const notes = await notificationsOf('pa-unfreeze', 2);
    expect(notes[1]).toMatchObject({ operation_type: 'UNFREEZE', auth_status: 'UNFROZEN', auth_no: frozen.authNo });
  });

  it('cancels a completion in full: the trade closes, the hold is valid again and can be completed again', async () => {
    const before = await held();
    await p.freeze('pa-cancel', '100.00');
    const first = await p.complete('pa-cancel', 'c1', '60.00');
    const cancelled = await p.cancel('pa-cancel', 'x1', '60.00');
    expect(cancelled).toMatchObject({
      code: '10000', operationType: 'COMPLETE_CANCEL', status: 'SUCCEEDED', authStatus: 'AUTHORIZED', restAmount: '100.00', totalPayAmount: '0.00', tradeNo: first.tradeNo,
    });
    expect(await held()).toEqual({ channel: before.channel + 10_000n, merchant: before.merchant + 10_000n, pending: before.pending });
    const [trade] = await t.query('select * from trades where trade_no = $1', [first.tradeNo]);
    expect(trade).toMatchObject({ status: 'TRADE_CLOSED', close_reason: 'PREAUTH_COMPLETE_CANCEL', refunded_amount_minor: 6000n });
    const refundClosed = await t.sdk().exec('tongbao.trade.refund', { bizContent: { trade_no: first.tradeNo, refund_amount: '1.00', out_request_no: 'r' } }, { validateSign: true });
    expect(refundClosed).toMatchObject({ code: '40004', subCode: 'ACQ.TRADE_NOT_ALLOW_REFUND' });

    const second = await p.complete('pa-cancel', 'c2', '100.00');
    expect(second).toMatchObject({ code: '10000', authStatus: 'COMPLETED', totalPayAmount: '100.00' });
    expect(second.tradeNo).not.toBe(first.tradeNo);
    expect(await held()).toEqual({ channel: before.channel, merchant: before.merchant, pending: before.pending + 10_000n });
    // Cancelling a completion that was refunded, even in part, is refused and changes nothing.
    await t.sdk().exec('tongbao.trade.refund', { bizContent: { trade_no: second.tradeNo, refund_amount: '1.00', out_request_no: 'r' } }, { validateSign: true });
    const snapshot = await p.snapshot();
    expect(await p.cancel('pa-cancel', 'x2', '100.00')).toMatchObject({ code: '40004', subCode: 'AUTH.COMPLETION_REFUNDED' });
    expect(await p.snapshot()).toEqual(snapshot);
    expect((await notificationsOf('pa-cancel', 4)).map((note) => note.operation_type)).toEqual(['FREEZE', 'COMPLETE', 'COMPLETE_CANCEL', 'COMPLETE']);
  });

  it('releases a hold at its expire_time: the expiry job unfreezes it at the channel and marks it EXPIRED', async () => {
    const before = await held();
    const expireTime = formatWallClock(new Date(Date.now() + 2000), 'Asia/Shanghai');
    const frozen = await p.freeze('pa-expire', '30.00', { expire_time: expireTime });
    expect(frozen).toMatchObject({ code: '10000', authStatus: 'AUTHORIZED', timeExpire: expireTime });
    const expired = await until(() => p.auth('pa-expire'), (row) => row.status === 'EXPIRED');
    expect(expired.finished_at).toBeInstanceOf(Date);
    const [release] = (await p.operations('pa-expire')).slice(1);
    expect(release).toMatchObject({ kind: 'UNFREEZE', initiator: 'EXPIRY', out_request_no: 'expiry=1', status: 'SUCCEEDED' });
    expect(await held()).toEqual(before);
    const [, note] = await notificationsOf('pa-expire', 2);
    expect(note).toMatchObject({ operation_type: 'UNFREEZE', auth_status: 'EXPIRED', rest_amount: '0.00' });
    expect(await p.complete('pa-expire', 'c1', '1.00')).toMatchObject({ code: '40004', subCode: 'AUTH.ORDER_HAS_EXPIRED' });
  });

  it('records an asynchronous freeze and completion when the channel answers later', async () => {
    const pending = await p.freeze('pa-async', '60.01');
    expect(pending).toMatchObject({ code: '10000', authStatus: 'PROCESSING', status: 'PROCESSING', restAmount: '0.00' });
    expect(await p.complete('pa-async', 'c1', '1.00')).toMatchObject({ code: '40004', subCode: 'AUTH.OPERATION_IN_PROGRESS' });
    await until(() => p.auth('pa-async'), (row) => row.status === 'AUTHORIZED');
    const completing = await p.complete('pa-async', 'c1', '60.01');
    expect(completing).toMatchObject({ code: '10000', status: 'PROCESSING', authStatus: 'AUTHORIZED' });
    expect(await p.unfreeze('pa-async', 'u1', '60.01')).toMatchObject({ code: '40004', subCode: 'AUTH.OPERATION_IN_PROGRESS' });
    const completed = await until(() => p.auth('pa-async'), (row) => row.status === 'COMPLETED');
    expect(completed.completed_amount_minor).toBe(6001n);
    expect((await notificationsOf('pa-async', 2)).map((note) => [note.operation_type, note.status])).toEqual([['FREEZE', 'SUCCEEDED'], ['COMPLETE', 'SUCCEEDED']]);
  });

  it('applies a signed OPERATION callback from the channel, once', async () => {
    // 60.03: the bank answers PROCESSING and would settle only when queried, two seconds later.
    await p.freeze('pa-callback', '60.03');
    const [operation] = await p.operations('pa-callback');
    const [config] = await t.query("select config_sealed from channel_configs where channel = 'sandbox'");
    const credentials = JSON.parse(t.instance.context.secrets.open(config!.config_sealed)) as SandboxCredentials;
    const body = JSON.stringify({
      event: 'preauth', bank_operation_no: operation!.channel_ref, out_operation_no: operation!.operation_no, type: 'FREEZE', auth_no: operation!.channel_ref,
      status: 'SUCCEEDED', amount: '6003', currency: 'CNY', finished_at: new Date().toISOString(),
    });
    const path = '/channels/sandbox/notify';
    const send = () => fetch(`${t.url}${path}`, {
      method: 'POST', body,
      headers: {
        ...signedHeaders({ mchId: credentials.mchId, method: 'POST', path, body, privateKey: createPrivateKey(credentials.bankPrivateKeyPem), nowMs: Date.now(), nonce: randomBytes(16).toString('hex') }),
        'content-type': 'application/json', 'X-Sandbox-Path': path,
      },
    });
    expect((await send()).status).toBe(200);
    expect(await p.auth('pa-callback')).toMatchObject({ status: 'AUTHORIZED', channel_auth_ref: operation!.channel_ref });
    expect((await send()).status).toBe(200);
    expect(await t.query("select * from journal_transactions where kind = 'PREAUTH_FREEZE' and reference = $1", [operation!.operation_no])).toHaveLength(1);
    // Once the bank has settled the freeze on its side too, the hold takes a completion.
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(await p.complete('pa-callback', 'c1', '10.00')).toMatchObject({ code: '10000', authStatus: 'COMPLETED' });
  });

  it('resolves a hanging channel by compensation queries', async () => {
    expect(await p.freeze('pa-hang', '50.05')).toMatchObject({ code: '20000', subCode: 'ACQ.SYSTEM_ERROR' });
    // The same request again answers from the records: still processing, or already settled by a query.
    expect(await p.freeze('pa-hang', '50.05')).toMatchObject({ code: '10000', status: expect.stringMatching(/^(PROCESSING|SUCCEEDED)$/) });
    await until(() => p.auth('pa-hang'), (row) => row.status === 'AUTHORIZED');
    expect(await p.complete('pa-hang', 'c1', '50.05')).toMatchObject({ code: '20000', subCode: 'ACQ.SYSTEM_ERROR' });
    const completed = await until(() => p.auth('pa-hang'), (row) => row.status === 'COMPLETED');
    expect(await t.query('select * from trades where trade_no = $1 and status = $2', [completed.trade_no, 'TRADE_SUCCESS'])).toHaveLength(1);

    expect(await p.freeze('pa-hang-free', '50.04')).toMatchObject({ code: '20000', subCode: 'ACQ.SYSTEM_ERROR' });
    const failed = await until(() => p.auth('pa-hang-free'), (row) => row.status === 'FAILED');
    expect(failed.amount_minor).toBe(5004n);
    expect(await p.freeze('pa-hang-free', '50.04')).toMatchObject({ code: '40004', subCode: 'AUTH.OPERATION_FAILED' });
    expect((await notificationsOf('pa-hang-free', 1))[0]).toMatchObject({ operation_type: 'FREEZE', status: 'FAILED', failure_code: 'TIMEOUT', auth_status: 'FAILED' });
  });

  it('answers a decline as AUTH.OPERATION_FAILED, and the hold is as it was', async () => {
    const declined = await p.freeze('pa-decline', '40.05');
    expect(declined).toMatchObject({ code: '40004', subCode: 'AUTH.OPERATION_FAILED' });
    expect(declined.subMsg).toContain('INSUFFICIENT_FUNDS');
    expect(await p.auth('pa-decline')).toMatchObject({ status: 'FAILED' });
    expect(await p.complete('pa-decline', 'c1', '1.00')).toMatchObject({ code: '40004', subCode: 'AUTH.ORDER_NOT_FROZEN' });

    await p.freeze('pa-decline-step', '70.04');
    expect(await p.unfreeze('pa-decline-step', 'u1', '70.04')).toMatchObject({ code: '40004', subCode: 'AUTH.OPERATION_FAILED' });
    expect(await p.complete('pa-decline-step', 'c1', '40.04')).toMatchObject({ code: '40004', subCode: 'AUTH.OPERATION_FAILED' });
    expect(await p.auth('pa-decline-step')).toMatchObject({ status: 'AUTHORIZED', completed_amount_minor: 0n });
    expect(await p.complete('pa-decline-step', 'c2', '70.04')).toMatchObject({ code: '10000', authStatus: 'COMPLETED' });
  });

  it('expires holds on the configured period, with the sweep as the safety net', async () => {
    t = await t.restart({ ...overrides, TONGBAO_PREAUTH_HOLD_DAYS: '0.00003' }); // 2.6 s
    const frozen = await p.freeze('pa-config-expiry', '12.00');
    expect(frozen).toMatchObject({ code: '10000', authStatus: 'AUTHORIZED' });
    const auth = await p.auth('pa-config-expiry');
    expect(auth.expires_at.getTime() - auth.created_at.getTime()).toBeLessThan(4000);
    // As if the process died before the expiry job was written: the sweep schedules it.
    await t.query("select graphile_worker.remove_job('preauth-expire:' || $1)", [auth.auth_no]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(await p.auth('pa-config-expiry')).toMatchObject({ status: 'AUTHORIZED' });
    await t.query("select graphile_worker.add_job('preauth.sweep', '{}'::json)");
    await until(() => p.auth('pa-config-expiry'), (row) => row.status === 'EXPIRED');
  });

  it('keeps the ledger balanced through all of it', async () => {
    expect((await t.admin('GET', '/ledger/check')).body).toMatchObject({ ok: true, unbalancedTransactions: [], balanceMismatches: [] });
  });
});
