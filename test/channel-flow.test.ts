/**
 * The same order through every channel (issue 5, "Done means"): one Tongbao, every channel put in service
 * through the admin API against its simulator, and the same instant payment of 100.00 CNY, refunded 30.00 and
 * then the remaining 70.00, paid through each channel in its natural product via the gateway. Whatever the
 * channel's protocol, what the merchant and the books see must be the same: trade and refund statuses in the
 * same order, the same ledger postings (only the channel's clearing account differs), the same signed
 * notifications, the same query answers, and a balanced ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChannelFleet, type ChannelDriver, type ChannelFleet, type PayAnswer } from './helpers/channel-fleet.js';
import { startTestInstance, type TestInstance } from './helpers/instance.js';
import { startNotifySink, type NotifySink } from './helpers/notify-sink.js';
import { until } from './helpers/wait.js';

let t: TestInstance;
let fleet: ChannelFleet;
let sink: NotifySink;
beforeAll(async () => {
  t = await startTestInstance();
  sink = await startNotifySink();
  fleet = await startChannelFleet(t);
}, 60_000);
afterAll(async () => {
  await fleet?.close();
  await sink?.close();
  await t?.stop();
});

const exec = (method: string, bizContent: Record<string, unknown>) => t.sdk().exec(method, { bizContent }, { validateSign: true });

/** Fields that name this very trade, attempt or channel, or a time: everything else must be equal across channels. */
const ownFields = new Set(['tradeNo', 'outTradeNo', 'channel', 'channelTradeNo', 'attemptNo', 'refundNo', 'gmtCreate', 'gmtPayment', 'gmtClose', 'gmtRefund', 'timeExpire', 'traceId']);
const sameAcross = (answer: Record<string, unknown>) => Object.fromEntries(Object.entries(answer).filter(([key]) => !ownFields.has(key)));

interface Observation {
  /** The trade's status after create, after the payment settled, after each refund. */
  readonly statuses: string[];
  readonly notificationsWritten: string[];
  readonly tradeEvents: string[];
  readonly refundStatuses: string[];
  readonly postings: { kind: string; entries: string[] }[];
  readonly notifications: Record<string, string | boolean>[];
  readonly tradeQuery: Record<string, unknown>;
  readonly refundQueries: Record<string, unknown>[];
}

const tradeStatus = async (outTradeNo: string) => (await exec('tongbao.trade.query', { out_trade_no: outTradeNo })).tradeStatus as string;

async function payThrough(driver: ChannelDriver, outTradeNo: string): Promise<{ statusAfterPay: string; attemptNo: string }> {
  const answer = await exec('tongbao.trade.pay', { out_trade_no: outTradeNo, channel: driver.channel, ...driver.payFields }) as unknown as PayAnswer & { code: string };
  expect(answer.code, driver.channel).toBe('10000');
  const attemptNo = answer.attemptNo!;
  if (driver.payerActionType === null) {
    // The sandbox and Stripe (a confirmed PaymentIntent with a test card) answer pay with the result itself.
    expect(answer.tradeStatus, driver.channel).toBe('TRADE_SUCCESS');
    expect(answer.payerAction).toBeUndefined();
  } else {
    // Alipay, WeChat and UnionPay hand the payer a next step (a QR code, a form) and settle by callback later.
    expect(answer.tradeStatus, driver.channel).toBe('WAIT_BUYER_PAY');
    expect(answer.payerAction?.type, driver.channel).toBe(driver.payerActionType);
    await driver.payerActs(answer);
    await until(() => tradeStatus(outTradeNo), (status) => status === 'TRADE_SUCCESS');
    // The success came by the channel's own callback, which Tongbao acknowledged, not by a compensation query.
    expect(driver.callbacksAcknowledged(attemptNo), driver.channel).toContain(true);
    const [attempt] = await t.query('select query_count from pay_attempts where attempt_no = $1', [attemptNo]);
    expect(attempt!.query_count, driver.channel).toBe(0);
  }
  return { statusAfterPay: await tradeStatus(outTradeNo), attemptNo };
}

async function postingsOf(driver: ChannelDriver, references: string[]): Promise<Observation['postings']> {
  const rows = await t.query(
    `select jt.transaction_id, jt.kind, la.code, je.side, je.amount_minor
       from journal_transactions jt join journal_entries je using (transaction_id) join ledger_accounts la using (account_id)
      where jt.reference = any($1) order by jt.transaction_id, je.side, la.code`,
    [references],
  );
  const byTransaction = new Map<string, { kind: string; entries: string[] }>();
  for (const row of rows) {
    const posting = byTransaction.get(String(row.transaction_id)) ?? { kind: row.kind as string, entries: [] };
    // The clearing account is the channel's own; the rest of the posting is the same for every channel.
    posting.entries.push(`${row.side} ${String(row.code).replace(`channel:${driver.channel}:`, 'channel:<channel>:')} ${row.amount_minor}`);
    byTransaction.set(String(row.transaction_id), posting);
  }
  return [...byTransaction.values()];
}

async function flowThrough(driver: ChannelDriver): Promise<Observation> {
  const outTradeNo = `flow-${driver.channel}`;
  const created = await exec('tongbao.trade.create', { out_trade_no: outTradeNo, total_amount: '100.00', currency: 'CNY', subject: 'the same order', notify_url: sink.url });
  const statuses = [created.tradeStatus as string];
  const { statusAfterPay, attemptNo } = await payThrough(driver, outTradeNo);
  statuses.push(statusAfterPay);

  const refundStatuses: string[] = [];
  for (const [outRequestNo, amount] of [['part', '30.00'], ['rest', '70.00']] as const) {
    // Every channel answers a refund of a paid order at once; the callbacks that follow must change nothing.
    const refund = await exec('tongbao.trade.refund', { out_trade_no: outTradeNo, refund_amount: amount, out_request_no: outRequestNo });
    expect(refund.code, driver.channel).toBe('10000');
    refundStatuses.push(refund.refundStatus as string);
    statuses.push(await tradeStatus(outTradeNo));
  }

  const [trade] = await t.query('select trade_no from trades where out_trade_no = $1', [outTradeNo]);
  const refunds = await t.query('select refund_no from refunds where trade_no = $1 order by created_at', [trade!.trade_no]);
  if (driver.refundCallbacks) {
    for (const { refund_no: refundNo } of refunds) await until(async () => driver.callbacksAcknowledged(refundNo as string), (acknowledged) => acknowledged.includes(true));
  }
  // Every notification is written with the change that causes it, so the table says what will ever be sent.
  const written = await t.query('select notify_type from notifications where trade_no = $1 order by created_at', [trade!.trade_no]);
  const notes = await until(async () => sink.received.filter((post) => post.fields.out_trade_no === outTradeNo), (found) => found.length >= written.length);
  const events = await t.query("select event_type from events where aggregate_type = 'trade' and aggregate_id = $1 order by event_id", [trade!.trade_no]);
  const tradeQuery = await exec('tongbao.trade.query', { out_trade_no: outTradeNo });
  expect(tradeQuery.channel).toBe(driver.channel);
  return {
    statuses,
    notificationsWritten: written.map((row) => row.notify_type as string),
    tradeEvents: events.map((event) => event.event_type as string),
    refundStatuses,
    postings: await postingsOf(driver, [attemptNo, ...refunds.map((refund) => refund.refund_no as string)]),
    notifications: notes.map(({ fields }) => ({
      signed: t.sdk().checkNotifySignV2(fields),
      notify_type: fields.notify_type!, trade_status: fields.trade_status!, total_amount: fields.total_amount!, receipt_amount: fields.receipt_amount!,
      refund_fee: fields.refund_fee!, ...(fields.refund_status ? { refund_status: fields.refund_status, refund_amount: fields.refund_amount! } : {}),
    })),
    tradeQuery: sameAcross(tradeQuery),
    refundQueries: [
      sameAcross(await exec('tongbao.trade.refund.query', { out_trade_no: outTradeNo, out_request_no: 'part' })),
      sameAcross(await exec('tongbao.trade.refund.query', { out_trade_no: outTradeNo, out_request_no: 'rest' })),
    ],
  };
}

describe('the same order through every channel', () => {
  it('gets the same statuses, postings, notifications and answers whatever the channel', async () => {
    const [app] = await t.query('select merchant_id from apps where app_id = $1', [t.demo.app_id]);
    const merchantPending = `merchant:${app!.merchant_id}:pending:CNY`;
    const expected: Observation = {
      statuses: ['WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'TRADE_SUCCESS', 'TRADE_CLOSED'],
      notificationsWritten: ['trade_status_sync', 'refund_status_sync', 'refund_status_sync'],
      tradeEvents: ['trade.created', 'trade.paid', 'trade.closed'],
      refundStatuses: ['REFUND_SUCCESS', 'REFUND_SUCCESS'],
      postings: [
        { kind: 'PAYMENT', entries: ['CREDIT ' + merchantPending + ' 10000', 'DEBIT channel:<channel>:clearing:CNY 10000'] },
        { kind: 'REFUND', entries: ['CREDIT channel:<channel>:clearing:CNY 3000', 'DEBIT ' + merchantPending + ' 3000'] },
        { kind: 'REFUND', entries: ['CREDIT channel:<channel>:clearing:CNY 7000', 'DEBIT ' + merchantPending + ' 7000'] },
      ],
      notifications: [
        { signed: true, notify_type: 'trade_status_sync', trade_status: 'TRADE_SUCCESS', total_amount: '100.00', receipt_amount: '100.00', refund_fee: '0.00' },
        { signed: true, notify_type: 'refund_status_sync', trade_status: 'TRADE_SUCCESS', total_amount: '100.00', receipt_amount: '100.00', refund_fee: '30.00', refund_status: 'REFUND_SUCCESS', refund_amount: '30.00' },
        { signed: true, notify_type: 'refund_status_sync', trade_status: 'TRADE_CLOSED', total_amount: '100.00', receipt_amount: '100.00', refund_fee: '100.00', refund_status: 'REFUND_SUCCESS', refund_amount: '70.00' },
      ],
      tradeQuery: {
        code: '10000', msg: 'Success', tradeStatus: 'TRADE_CLOSED', tradeType: 'INSTANT', totalAmount: '100.00', currency: 'CNY', receiptAmount: '100.00', refundFee: '100.00', subject: 'the same order',
      },
      refundQueries: [
        { code: '10000', msg: 'Success', outRequestNo: 'part', refundStatus: 'REFUND_SUCCESS', refundAmount: '30.00', totalAmount: '100.00', refundFee: '100.00', currency: 'CNY', tradeStatus: 'TRADE_CLOSED' },
        { code: '10000', msg: 'Success', outRequestNo: 'rest', refundStatus: 'REFUND_SUCCESS', refundAmount: '70.00', totalAmount: '100.00', refundFee: '100.00', currency: 'CNY', tradeStatus: 'TRADE_CLOSED' },
      ],
    };
    const observed: Record<string, Observation> = {};
    for (const driver of fleet.drivers) observed[driver.channel] = await flowThrough(driver);
    expect(Object.keys(observed)).toEqual(['sandbox', 'alipay', 'wechat', 'unionpay', 'stripe']);
    for (const [channel, observation] of Object.entries(observed)) expect({ channel, ...observation }).toEqual({ channel, ...expected });
    expect((await t.admin('GET', '/ledger/check')).body.ok).toBe(true);
  }, 120_000);
});
