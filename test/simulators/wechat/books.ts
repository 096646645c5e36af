/**
 * The simulated WeChat Pay's books: orders and refunds in memory, the business rules of the v3 API (order
 * creation and its idempotency, close, refunds and what may be refunded), the JSON it answers with, and the
 * daily trade bill. HTTP, signatures and scenario faults live in simulator.ts.
 */
import { randomBytes } from 'node:crypto';
import { now } from '../../../src/clock.js';
import { formatBeijingTime, outRefundNoPattern, outTradeNoPattern, beijingDateOf } from '../../../src/channels/wechat/protocol.js';
import { billLine, tradeBillColumns, tradeBillSummaryColumns } from '../../../src/channels/wechat/statement.js';
import { formatAmount } from '../../../src/shared/money.js';
import { randomDigits } from './keys.js';

/** An answer before signing: the HTTP status and the JSON body (undefined for 204). */
export interface Reply {
  readonly status: number;
  readonly body?: object;
}

export function errorReply(status: number, code: string, message: string): Reply {
  return { status, body: { code, message } };
}

export interface Order {
  readonly appid: string;
  readonly mchid: string;
  readonly outTradeNo: string;
  readonly tradeType: 'NATIVE' | 'JSAPI';
  readonly description: string;
  readonly notifyUrl: string;
  readonly total: number;
  readonly currency: string;
  readonly openid: string | undefined;
  readonly timeExpire: Date;
  readonly requestBody: string;
  readonly prepay: string;
  tradeState: string;
  tradeStateDesc: string;
  transactionId: string | undefined;
  successTime: Date | undefined;
}

export type RefundStatus = 'SUCCESS' | 'PROCESSING' | 'ABNORMAL' | 'CLOSED';

export interface RefundRecord {
  readonly refundId: string;
  readonly outRefundNo: string;
  readonly order: Order;
  readonly refund: number;
  readonly notifyUrl: string | undefined;
  readonly requestBody: string;
  readonly createTime: Date;
  status: RefundStatus;
  successTime: Date | undefined;
}

const stateDescriptions: Record<string, string> = {
  SUCCESS: '支付成功', REFUND: '转入退款', NOTPAY: '订单未支付', CLOSED: '已关闭', USERPAYING: '用户支付中', PAYERROR: '支付失败', REVOKED: '已撤销',
};

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function paramError(message: string): Reply {
  return errorReply(400, 'PARAM_ERROR', message);
}

export class Books {
  readonly orders = new Map<string, Order>();
  readonly refunds = new Map<string, RefundRecord>();
  /** The status the next refund is created in, once; otherwise defaultRefundStatus. */
  nextRefundStatus: RefundStatus | null = null;

  constructor(private readonly ids: { mchid: string; appid: string }, private readonly defaultRefundStatus: RefundStatus) {}

  createOrder(tradeType: 'NATIVE' | 'JSAPI', body: unknown): Reply {
    if (!isObject(body)) return paramError('请求体不是JSON对象');
    const { appid, mchid, description, out_trade_no: outTradeNo, time_expire: timeExpire, notify_url: notifyUrl, amount, payer } = body;
    if (mchid !== this.ids.mchid) return paramError('mchid与请求的商户号不一致');
    if (appid !== this.ids.appid) return errorReply(400, 'APPID_MCHID_NOT_MATCH', 'AppID和mch_id不匹配');
    if (typeof description !== 'string' || description.length === 0 || [...description].length > 127) return paramError('description格式错误');
    if (typeof outTradeNo !== 'string' || !outTradeNoPattern.test(outTradeNo)) return paramError('out_trade_no格式错误');
    if (typeof notifyUrl !== 'string' || !/^https?:\/\/[^?#\s]+$/.test(notifyUrl)) return paramError('notify_url格式错误, 不能携带参数');
    if (timeExpire !== undefined && (typeof timeExpire !== 'string' || !rfc3339.test(timeExpire))) return paramError('time_expire格式错误');
    if (!isObject(amount) || !Number.isSafeInteger(amount.total) || (amount.total as number) <= 0) return paramError('amount.total必须为正整数');
    if (amount.currency !== undefined && amount.currency !== 'CNY') return paramError('amount.currency只支持CNY');
    const openid = isObject(payer) && typeof payer.openid === 'string' ? payer.openid : undefined;
    if (tradeType === 'JSAPI' && !openid) return paramError('JSAPI下单需要payer.openid');
    const requestBody = JSON.stringify(body);
    const existing = this.orders.get(outTradeNo);
    if (existing) {
      if (existing.tradeState === 'SUCCESS' || existing.tradeState === 'REFUND') return errorReply(400, 'ORDERPAID', '该订单已支付');
      // The same order sent again gets the same answer; another order under the same number is refused.
      if (existing.requestBody !== requestBody || existing.tradeType !== tradeType) return errorReply(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
      return this.orderCreated(existing);
    }
    const order: Order = {
      appid, mchid, outTradeNo, tradeType, description, notifyUrl, openid, requestBody,
      total: amount.total as number,
      currency: 'CNY',
      timeExpire: timeExpire === undefined ? new Date(now().getTime() + 2 * 60 * 60 * 1000) : new Date(timeExpire as string),
      prepay: tradeType === 'NATIVE' ? `weixin://wxpay/bizpayurl?pr=${randomBytes(6).toString('base64url')}` : `wx${randomDigits(14)}${randomBytes(9).toString('hex')}`,
      tradeState: 'NOTPAY',
      tradeStateDesc: stateDescriptions.NOTPAY!,
      transactionId: undefined,
      successTime: undefined,
    };
    this.orders.set(outTradeNo, order);
    return this.orderCreated(order);
  }

  private orderCreated(order: Order): Reply {
    return { status: 200, body: order.tradeType === 'NATIVE' ? { code_url: order.prepay } : { prepay_id: order.prepay } };
  }

  queryOrder(outTradeNo: string, mchid: string | null): Reply {
    if (mchid !== this.ids.mchid) return paramError('mchid参数错误');
    const order = this.orders.get(outTradeNo);
    return order ? { status: 200, body: transactionJson(order) } : errorReply(404, 'ORDER_NOT_EXIST', '订单不存在');
  }

  closeOrder(outTradeNo: string, body: unknown): Reply {
    if (!isObject(body) || body.mchid !== this.ids.mchid) return paramError('mchid参数错误');
    const order = this.orders.get(outTradeNo);
    if (!order) return errorReply(404, 'ORDER_NOT_EXIST', '订单不存在');
    if (order.tradeState === 'SUCCESS' || order.tradeState === 'REFUND') return errorReply(400, 'ORDERPAID', '订单已支付');
    this.setState(order, 'CLOSED');
    return { status: 204 };
  }

  /** The payer pays: the order succeeds. Returns the order, or throws for a test that asked the impossible. */
  payOrder(outTradeNo: string): Order {
    const order = this.orders.get(outTradeNo);
    if (!order) throw new Error(`simulator: no order ${outTradeNo}`);
    if (order.tradeState !== 'NOTPAY' && order.tradeState !== 'USERPAYING') throw new Error(`simulator: order ${outTradeNo} is ${order.tradeState}`);
    if (order.timeExpire.getTime() < now().getTime()) throw new Error(`simulator: order ${outTradeNo} has expired`);
    order.transactionId = `4200${randomDigits(24)}`;
    order.successTime = now();
    this.setState(order, 'SUCCESS');
    return order;
  }

  setState(order: Order, state: string): void {
    order.tradeState = state;
    order.tradeStateDesc = stateDescriptions[state] ?? '未知状态';
    if (state === 'PAYERROR' && !order.transactionId) order.transactionId = `4200${randomDigits(24)}`;
  }

  /** A refund request's answer; `created` is set when this request made a new refund. */
  createRefund(body: unknown): Reply & { created?: RefundRecord } {
    if (!isObject(body)) return paramError('请求体不是JSON对象');
    const { out_trade_no: outTradeNo, out_refund_no: outRefundNo, amount, notify_url: notifyUrl } = body;
    if (typeof outRefundNo !== 'string' || !outRefundNoPattern.test(outRefundNo)) return paramError('out_refund_no格式错误');
    if (typeof outTradeNo !== 'string') return paramError('out_trade_no与transaction_id必填其一');
    if (!isObject(amount) || !Number.isSafeInteger(amount.refund) || !Number.isSafeInteger(amount.total) || (amount.refund as number) <= 0) return paramError('amount格式错误');
    if (amount.currency !== 'CNY') return paramError('amount.currency只支持CNY');
    if (notifyUrl !== undefined && (typeof notifyUrl !== 'string' || !/^https?:\/\/[^?#\s]+$/.test(notifyUrl))) return paramError('notify_url格式错误');
    const order = this.orders.get(outTradeNo);
    if (!order) return errorReply(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    const requestBody = JSON.stringify(body);
    const existing = this.refunds.get(outRefundNo);
    if (existing) {
      return existing.requestBody === requestBody ? { status: 200, body: refundJson(existing) } : errorReply(400, 'INVALID_REQUEST', '退款单号已存在, 请求参数与原退款单不一致');
    }
    if (order.tradeState !== 'SUCCESS' && order.tradeState !== 'REFUND') return errorReply(400, 'INVALID_REQUEST', '订单未支付, 不能退款');
    if (amount.total !== order.total) return errorReply(400, 'INVALID_REQUEST', '订单金额与原订单不一致');
    const refunded = [...this.refunds.values()].filter((refund) => refund.order === order && refund.status !== 'CLOSED').reduce((sum, refund) => sum + refund.refund, 0);
    if ((amount.refund as number) > order.total - refunded) return errorReply(400, 'INVALID_REQUEST', '申请退款金额超过订单可退金额');
    const status = this.nextRefundStatus ?? this.defaultRefundStatus;
    this.nextRefundStatus = null;
    const record: RefundRecord = {
      refundId: `50${randomDigits(27)}`, outRefundNo, order, refund: amount.refund as number, notifyUrl: notifyUrl as string | undefined, requestBody,
      createTime: now(), status, successTime: status === 'SUCCESS' ? now() : undefined,
    };
    this.refunds.set(outRefundNo, record);
    this.setState(order, 'REFUND');
    return { status: 200, body: refundJson(record), created: record };
  }

  queryRefund(outRefundNo: string): Reply {
    const record = this.refunds.get(outRefundNo);
    return record ? { status: 200, body: refundJson(record) } : errorReply(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
  }

  /** The ALL trade bill of one Beijing day as WeChat writes it, or null when the day had no trade. */
  tradeBill(date: string): string | null {
    const rows: string[][] = [];
    let settled = 0;
    let refunded = 0;
    let fees = 0;
    for (const order of this.orders.values()) {
      if (!order.successTime || beijingDateOf(order.successTime) !== date) continue;
      const fee = Math.round(order.total * 0.006);
      settled += order.total;
      fees += fee;
      rows.push(billRow(order, order.successTime, { state: 'SUCCESS', settle: yuan(order.total), fee: yuan(fee), orderAmount: yuan(order.total) }));
    }
    for (const record of this.refunds.values()) {
      if (record.status !== 'SUCCESS' || !record.successTime || beijingDateOf(record.successTime) !== date) continue;
      refunded += record.refund;
      rows.push(billRow(record.order, record.successTime, { state: 'REFUND', refund: record, fee: '0.00', orderAmount: '0.00' }));
    }
    if (rows.length === 0) return null;
    const lines = [
      tradeBillColumns.join(','),
      ...rows.map(billLine),
      tradeBillSummaryColumns.join(','),
      billLine([String(rows.length), yuan(settled), yuan(refunded), '0.00', yuan(fees), yuan(settled), yuan(refunded)]),
    ];
    return `\uFEFF${lines.join('\r\n')}\r\n`;
  }
}

function yuan(fen: number): string {
  return formatAmount(BigInt(fen), 'CNY');
}

function billTime(instant: Date): string {
  return formatBeijingTime(instant).slice(0, 19).replace('T', ' ');
}

function billRow(order: Order, at: Date, row: { state: string; settle?: string; refund?: RefundRecord; fee: string; orderAmount: string }): string[] {
  const refund = row.refund;
  return [
    billTime(at), order.appid, order.mchid, '0', '', order.transactionId ?? '', order.outTradeNo, order.openid ?? '', order.tradeType, row.state,
    'OTHERS', 'CNY', row.settle ?? '0.00', '0.00', refund?.refundId ?? '0', refund?.outRefundNo ?? '0', refund ? yuan(refund.refund) : '0.00', '0.00',
    refund ? 'ORIGINAL' : '', refund ? 'SUCCESS' : '', order.description, '', row.fee, '0.60%', row.orderAmount, refund ? yuan(refund.refund) : '0.00', '',
  ];
}

export function transactionJson(order: Order): Fields {
  const paid = order.tradeState === 'SUCCESS' || order.tradeState === 'REFUND';
  return {
    appid: order.appid,
    mchid: order.mchid,
    out_trade_no: order.outTradeNo,
    ...(order.transactionId ? { transaction_id: order.transactionId } : {}),
    trade_type: order.tradeType,
    trade_state: order.tradeState,
    trade_state_desc: order.tradeStateDesc,
    ...(paid ? { bank_type: 'OTHERS', success_time: formatBeijingTime(order.successTime!), payer: { openid: order.openid ?? `o${randomBytes(13).toString('base64url')}` } } : {}),
    attach: '',
    amount: { total: order.total, ...(paid ? { payer_total: order.total } : {}), currency: order.currency, payer_currency: order.currency },
  };
}

export function refundJson(record: RefundRecord): Fields {
  return {
    refund_id: record.refundId,
    out_refund_no: record.outRefundNo,
    transaction_id: record.order.transactionId,
    out_trade_no: record.order.outTradeNo,
    channel: 'ORIGINAL',
    user_received_account: '支付用户零钱',
    ...(record.successTime ? { success_time: formatBeijingTime(record.successTime) } : {}),
    create_time: formatBeijingTime(record.createTime),
    status: record.status,
    funds_account: 'AVAILABLE',
    amount: {
      total: record.order.total, refund: record.refund, from: [], payer_total: record.order.total, payer_refund: record.refund,
      settlement_refund: record.refund, settlement_total: record.order.total, discount_refund: 0, currency: 'CNY', refund_fee: 0,
    },
    promotion_detail: [],
  };
}

/** The decrypted resource of a refund callback: refund_status, and amounts without a currency. */
export function refundResourceJson(record: RefundRecord): Fields {
  return {
    mchid: record.order.mchid,
    out_trade_no: record.order.outTradeNo,
    transaction_id: record.order.transactionId,
    out_refund_no: record.outRefundNo,
    refund_id: record.refundId,
    refund_status: record.status,
    ...(record.successTime ? { success_time: formatBeijingTime(record.successTime) } : {}),
    user_received_account: '支付用户零钱',
    amount: { total: record.order.total, refund: record.refund, payer_total: record.order.total, payer_refund: record.refund },
  };
}
