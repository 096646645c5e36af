import { describe, expect, it } from 'vitest';
import { freshnessProblem, notificationFromParams, parseFormBody, sentAt } from './notifications.js';

describe('notification parsing', () => {
  const trade = { notify_type: 'trade_status_sync', out_trade_no: 'A1', trade_no: '2024X', trade_status: 'TRADE_SUCCESS', total_amount: '12.00', gmt_payment: '2024-01-01 08:00:00' };

  it('reads the form body once, refusing repeated fields', () => {
    expect(parseFormBody('a=1&b=%E4%B8%AD+%26')).toEqual({ a: '1', b: '中 &' });
    expect(parseFormBody('a=1&a=2')).toBeNull();
  });

  it('dates trade notifications by notify_time (Beijing) and messages by utc_timestamp', () => {
    expect(sentAt({ notify_time: '2024-01-01 08:00:00' })).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect(sentAt({ utc_timestamp: '1704067200000' })).toEqual(new Date('2024-01-01T00:00:00Z'));
    expect(sentAt({ notify_time: 'yesterday' })).toBeNull();
    expect(sentAt({})).toBeNull();
    const nowMs = Date.parse('2024-01-01T00:00:00Z');
    expect(freshnessProblem(new Date(nowMs - 5 * 60_000), nowMs)).toBeNull();
    expect(freshnessProblem(new Date(nowMs - 5 * 60_000 - 1000), nowMs)).toBe('stale notify_time');
    expect(freshnessProblem(new Date(nowMs + 30_000), nowMs)).toBeNull();
    expect(freshnessProblem(new Date(nowMs + 61_000), nowMs)).toBe('notify_time in the future');
  });

  it('reads payments, refunds and transfer messages', () => {
    expect(notificationFromParams(trade)).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', attemptNo: 'A1', result: { status: 'SUCCEEDED', amountMinor: 1200n } } });
    expect(notificationFromParams({ ...trade, trade_status: 'TRADE_CLOSED' })).toMatchObject({ ok: true, notification: { kind: 'PAYMENT', result: { status: 'FAILED' } } });
    const refund = { ...trade, trade_status: 'TRADE_CLOSED', out_biz_no: 'R1', refund_fee: '12.00', gmt_refund: '2024-01-01 09:00:00.123' };
    expect(notificationFromParams(refund)).toEqual({ ok: true, notification: { kind: 'REFUND', refundNo: 'R1', result: { status: 'PENDING', channelRefundNo: '2024X' } } });
    const message = { msg_method: 'alipay.fund.trans.order.changed', biz_content: JSON.stringify({ out_biz_no: 'P1', order_id: 'O1', status: 'SUCCESS', trans_amount: '3.00', pay_date: '2024-01-01 08:00:00' }) };
    expect(notificationFromParams(message)).toMatchObject({ ok: true, notification: { kind: 'OPERATION', operationNo: 'P1', result: { status: 'SUCCEEDED', amountMinor: 300n } } });
  });

  it('refuses what it cannot read, and never turns an unknown status into success', () => {
    expect(notificationFromParams({ ...trade, notify_type: 'batch_refund_notify' }).ok).toBe(false);
    expect(notificationFromParams({ ...trade, out_trade_no: undefined } as unknown as Record<string, string>).ok).toBe(false);
    expect(notificationFromParams({ msg_method: 'alipay.fund.trans.order.changed', biz_content: '{' }).ok).toBe(false);
    expect(notificationFromParams({ ...trade, trade_status: 'TRADE_OK' })).toMatchObject({ ok: true, notification: { result: { status: 'UNKNOWN' } } });
  });
});
