/**
 * The simulated Alipay's books: orders (trades), their refunds and transfers, held in memory, and one handler
 * per OpenAPI method that turns a verified request's biz_content into the `<method>_response` object Alipay
 * would answer with. Behaviour follows Alipay's documentation where the simulator needs it:
 * - precreate and page pay register an order, but the trade exists at Alipay only once the payer scans the
 *   code or logs in on the cashier (`open`); until then query and close answer ACQ.TRADE_NOT_EXIST;
 * - refunds are idempotent by out_request_no (a repeat answers fund_change N), transfers by out_biz_no;
 * - refund_fee in a refund answer is the trade's refunded total, not the refund's own amount.
 */
import { randomBytes } from 'node:crypto';
import { formatAmount, parseAmount } from '../../../src/shared/money.js';
import { formatWallClock } from '../../../src/shared/time.js';

export type Fields = Record<string, unknown>;

export interface Order {
  readonly outTradeNo: string;
  readonly product: 'PRECREATE' | 'PAGE';
  readonly amountMinor: bigint;
  readonly subject: string;
  readonly notifyUrl: string | null;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
  readonly qrCode: string;
  tradeNo: string | null;
  /** CREATED: registered, no trade yet. Otherwise Alipay's trade_status, or whatever a test forced. */
  status: string;
  cancelled: boolean;
  cancelAction: 'close' | 'refund' | null;
  paidAt: Date | null;
  refundedMinor: bigint;
  readonly refunds: Map<string, Refund>;
}

export interface Refund {
  readonly outRequestNo: string;
  readonly amountMinor: bigint;
  status: 'PROCESSING' | 'SUCCESS';
  finishedAt: Date | null;
}

export interface Transfer {
  readonly outBizNo: string;
  readonly orderId: string;
  readonly payFundOrderId: string;
  readonly amountMinor: bigint;
  readonly payeeIdentity: string;
  status: 'SUCCESS' | 'DEALING' | 'FAIL';
  readonly createdAt: Date;
  payDate: Date | null;
  errorCode: string | null;
  failReason: string | null;
}

export interface Payee {
  readonly identity: string;
  readonly type: 'ALIPAY_LOGON_ID' | 'ALIPAY_USER_ID';
  readonly name: string;
}

/** What a handler answers, plus what the server must do after answering. */
export interface HandlerResult {
  readonly body: Fields;
  /** Notifications to send about these orders (refunds name their request). */
  readonly notify?: readonly { readonly order: Order; readonly refund?: Refund }[];
}

export const yuan = (amountMinor: bigint): string => formatAmount(amountMinor, 'CNY');
export const beijing = (instant: Date): string => formatWallClock(instant, 'Asia/Shanghai');
const digits = (count: number): string => Array.from(randomBytes(count), (byte) => String(byte % 10)).join('');

export function success(fields: Fields = {}): Fields {
  return { code: '10000', msg: 'Success', ...fields };
}

export function failure(subCode: string, subMsg: string, code = '40004'): Fields {
  const msg = { '40001': 'Missing Required Arguments', '40002': 'Invalid Arguments', '40004': 'Business Failed', '40006': 'Insufficient Permissions', '20000': 'Service Currently Unavailable' }[code] ?? 'Failed';
  return { code, msg, sub_code: subCode, sub_msg: subMsg };
}

function parseYuan(value: unknown): bigint | null {
  if (typeof value !== 'string' || !/^\d{1,9}(\.\d{1,2})?$/.test(value)) return null;
  const parsed = parseAmount(value, 'CNY');
  return parsed.ok && parsed.amountMinor <= 10_000_000_000n ? parsed.amountMinor : null;
}

const outNoPattern = /^[A-Za-z0-9_\-]{1,64}$/;
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

export class Books {
  readonly orders = new Map<string, Order>();
  readonly transfers = new Map<string, Transfer>();
  deferRefunds = false;
  deferTransfers = false;
  payerBalanceMinor = 10n ** 12n;

  constructor(private readonly clock: () => Date, private readonly payees: readonly Payee[]) {}

  /** Registers a precreate or page-pay order; the same number with the same terms answers the same order. */
  register(product: Order['product'], biz: Fields, notifyUrl: string | null): { order: Order } | { error: Fields } {
    const outTradeNo = text(biz.out_trade_no);
    const amountMinor = parseYuan(biz.total_amount);
    const subject = text(biz.subject);
    if (!outTradeNo || !outNoPattern.test(outTradeNo) || amountMinor === null || !subject) {
      return { error: failure('ACQ.INVALID_PARAMETER', 'out_trade_no, total_amount or subject is missing or invalid') };
    }
    const existing = this.orders.get(outTradeNo);
    if (existing) {
      if (existing.status === 'TRADE_SUCCESS' || existing.status === 'TRADE_FINISHED') return { error: failure('ACQ.TRADE_HAS_SUCCESS', '交易已被支付') };
      if (existing.status === 'TRADE_CLOSED' || existing.cancelled) return { error: failure('ACQ.TRADE_HAS_CLOSE', '交易已经关闭') };
      if (existing.amountMinor !== amountMinor || existing.subject !== subject || existing.product !== product) {
        return { error: failure('ACQ.CONTEXT_INCONSISTENT', '交易信息被篡改') };
      }
      return { order: existing };
    }
    const expiresAt = text(biz.time_expire) ? parseBeijing(biz.time_expire as string) : null;
    const order: Order = {
      outTradeNo, product, amountMinor, subject, notifyUrl, expiresAt, createdAt: this.clock(),
      qrCode: `https://qr.alipay.com/bax0${randomBytes(10).toString('hex')}`,
      tradeNo: null, status: 'CREATED', cancelled: false, cancelAction: null, paidAt: null, refundedMinor: 0n, refunds: new Map(),
    };
    this.orders.set(outTradeNo, order);
    return { order };
  }

  /** The payer scans the QR code or logs in on the cashier: Alipay creates the trade, waiting for payment. */
  open(outTradeNo: string): Order {
    const order = this.orders.get(outTradeNo);
    if (!order) throw new Error(`no order ${outTradeNo}`);
    if (order.status !== 'CREATED') return order;
    if (order.cancelled) throw new Error(`order ${outTradeNo} was cancelled`);
    if (order.expiresAt && order.expiresAt.getTime() < this.clock().getTime()) throw new Error(`order ${outTradeNo} has expired`);
    order.tradeNo = `${beijing(this.clock()).slice(0, 10).replace(/-/g, '')}2200${digits(16)}`;
    order.status = 'WAIT_BUYER_PAY';
    return order;
  }

  /** The payer confirms the payment. */
  pay(outTradeNo: string): Order {
    const order = this.open(outTradeNo);
    if (order.status !== 'WAIT_BUYER_PAY') throw new Error(`order ${outTradeNo} is ${order.status}, not payable`);
    order.status = 'TRADE_SUCCESS';
    order.paidAt = this.clock();
    return order;
  }

  precreate(biz: Fields, notifyUrl: string | null): HandlerResult {
    const registered = this.register('PRECREATE', biz, notifyUrl);
    if ('error' in registered) return { body: registered.error };
    return { body: success({ out_trade_no: registered.order.outTradeNo, qr_code: registered.order.qrCode }) };
  }

  private trade(biz: Fields): Order | null {
    const byOutNo = text(biz.out_trade_no) ? this.orders.get(biz.out_trade_no as string) : undefined;
    const byTradeNo = text(biz.trade_no) ? [...this.orders.values()].find((order) => order.tradeNo === biz.trade_no) : undefined;
    const order = byOutNo ?? byTradeNo;
    return order && order.status !== 'CREATED' ? order : null;
  }

  query(biz: Fields): HandlerResult {
    const order = this.trade(biz);
    if (!order) return { body: failure('ACQ.TRADE_NOT_EXIST', '交易不存在') };
    return {
      body: success({
        trade_no: order.tradeNo, out_trade_no: order.outTradeNo, buyer_logon_id: 'buy***@example.com', trade_status: order.status,
        total_amount: yuan(order.amountMinor), buyer_pay_amount: order.paidAt ? yuan(order.amountMinor) : '0.00',
        receipt_amount: order.paidAt ? yuan(order.amountMinor) : '0.00', buyer_user_id: '2088102177846880',
        ...(order.paidAt ? { send_pay_date: beijing(order.paidAt) } : {}),
      }),
    };
  }

  close(biz: Fields): HandlerResult {
    const order = this.trade(biz);
    if (!order) return { body: failure('ACQ.TRADE_NOT_EXIST', '交易不存在') };
    if (order.status !== 'WAIT_BUYER_PAY') return { body: failure('ACQ.TRADE_STATUS_ERROR', '交易状态不合法') };
    order.status = 'TRADE_CLOSED';
    return { body: success({ trade_no: order.tradeNo, out_trade_no: order.outTradeNo }), notify: [{ order }] };
  }

  cancel(biz: Fields): HandlerResult {
    const outTradeNo = text(biz.out_trade_no);
    const registered = outTradeNo ? this.orders.get(outTradeNo) : undefined;
    const order = this.trade(biz);
    if (!order) {
      // No trade: nothing to undo, and the number can no longer be paid.
      if (registered) registered.cancelled = true;
      return { body: success({ out_trade_no: outTradeNo ?? undefined, retry_flag: 'N' }) };
    }
    const base = { trade_no: order.tradeNo, out_trade_no: order.outTradeNo, retry_flag: 'N' };
    if (order.cancelAction) return { body: success({ ...base, action: order.cancelAction }) };
    if (order.status === 'WAIT_BUYER_PAY') {
      Object.assign(order, { status: 'TRADE_CLOSED', cancelled: true, cancelAction: 'close' });
      return { body: success({ ...base, action: 'close' }), notify: [{ order }] };
    }
    if (order.status === 'TRADE_SUCCESS') {
      order.refundedMinor = order.amountMinor;
      Object.assign(order, { status: 'TRADE_CLOSED', cancelled: true, cancelAction: 'refund' });
      return { body: success({ ...base, action: 'refund', gmt_refund_pay: beijing(this.clock()) }) };
    }
    return { body: failure('ACQ.TRADE_STATUS_ERROR', '交易状态不合法') };
  }

  refund(biz: Fields): HandlerResult {
    const order = this.trade(biz);
    const outRequestNo = text(biz.out_request_no) ?? text(biz.out_trade_no);
    const amountMinor = parseYuan(biz.refund_amount);
    if (!outRequestNo || amountMinor === null) return { body: failure('ACQ.INVALID_PARAMETER', 'refund_amount or out_request_no is invalid') };
    if (!order) return { body: failure('ACQ.TRADE_NOT_EXIST', '交易不存在') };
    const answer = (fundChange: 'Y' | 'N') => success({
      trade_no: order.tradeNo, out_trade_no: order.outTradeNo, buyer_logon_id: 'buy***@example.com', fund_change: fundChange,
      refund_fee: yuan(order.refundedMinor), gmt_refund_pay: beijing(this.clock()), send_back_fee: '0.00',
    });
    // A repeated out_request_no is the same refund, whatever the amount says: Alipay never refunds it twice.
    if (order.refunds.has(outRequestNo)) return { body: answer('N') };
    if (order.status === 'TRADE_CLOSED') return { body: failure('ACQ.TRADE_HAS_CLOSE', '交易已关闭') };
    if (order.status !== 'TRADE_SUCCESS') return { body: failure('ACQ.TRADE_STATUS_ERROR', '交易状态不合法') };
    const pendingMinor = [...order.refunds.values()].filter((refund) => refund.status === 'PROCESSING').reduce((sum, refund) => sum + refund.amountMinor, 0n);
    if (order.refundedMinor + pendingMinor + amountMinor > order.amountMinor) return { body: failure('ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', '退款金额超限') };
    const refund: Refund = { outRequestNo, amountMinor, status: 'PROCESSING', finishedAt: null };
    order.refunds.set(outRequestNo, refund);
    if (this.deferRefunds) return { body: answer('N') };
    this.finishRefund(order, refund);
    return { body: answer('Y'), notify: [{ order, refund }] };
  }

  finishRefund(order: Order, refund: Refund): void {
    refund.status = 'SUCCESS';
    refund.finishedAt = this.clock();
    order.refundedMinor += refund.amountMinor;
    if (order.refundedMinor === order.amountMinor) order.status = 'TRADE_CLOSED';
  }

  refundQuery(biz: Fields): HandlerResult {
    const order = this.trade(biz);
    if (!order) return { body: failure('ACQ.TRADE_NOT_EXIST', '交易不存在') };
    const refund = text(biz.out_request_no) ? order.refunds.get(biz.out_request_no as string) : undefined;
    // Alipay answers 10000 without refund fields when it has no such refund.
    if (!refund) return { body: success() };
    return {
      body: success({
        trade_no: order.tradeNo, out_trade_no: order.outTradeNo, out_request_no: refund.outRequestNo,
        total_amount: yuan(order.amountMinor), refund_amount: yuan(refund.amountMinor),
        ...(refund.status === 'SUCCESS' ? { refund_status: 'REFUND_SUCCESS', gmt_refund_pay: beijing(refund.finishedAt!) } : {}),
      }),
    };
  }

  transfer(biz: Fields): HandlerResult {
    const outBizNo = text(biz.out_biz_no);
    const amountMinor = parseYuan(biz.trans_amount);
    const payeeInfo = (typeof biz.payee_info === 'object' && biz.payee_info !== null ? biz.payee_info : {}) as Fields;
    if (!outBizNo || amountMinor === null || biz.product_code !== 'TRANS_ACCOUNT_NO_PWD' || biz.biz_scene !== 'DIRECT_TRANSFER' || !text(biz.order_title)) {
      return { body: failure('INVALID_PARAMETER', '参数有误') };
    }
    const existing = this.transfers.get(outBizNo);
    if (existing) return { body: transferAnswer(existing) };
    const payee = this.payees.find((known) => known.identity === payeeInfo.identity && known.type === payeeInfo.identity_type);
    if (!payee) return { body: failure('PAYEE_NOT_EXIST', '收款账号不存在') };
    if ((payeeInfo.identity_type === 'ALIPAY_LOGON_ID' || payeeInfo.name !== undefined) && payeeInfo.name !== payee.name) {
      return { body: failure('PAYEE_USER_INFO_ERROR', '收款用户姓名或其它信息不一致') };
    }
    if (amountMinor > this.payerBalanceMinor) return { body: failure('PAYER_BALANCE_NOT_ENOUGH', '付款方余额不足') };
    this.payerBalanceMinor -= amountMinor;
    const now = this.clock();
    const transfer: Transfer = {
      outBizNo, orderId: `2024${digits(16)}`, payFundOrderId: `2024${digits(16)}`, amountMinor, payeeIdentity: payee.identity,
      status: this.deferTransfers ? 'DEALING' : 'SUCCESS', createdAt: now, payDate: this.deferTransfers ? null : now, errorCode: null, failReason: null,
    };
    this.transfers.set(outBizNo, transfer);
    return { body: transferAnswer(transfer) };
  }

  transferQuery(biz: Fields): HandlerResult {
    if (biz.product_code !== 'TRANS_ACCOUNT_NO_PWD' || biz.biz_scene !== 'DIRECT_TRANSFER') return { body: failure('INVALID_PARAMETER', '参数有误') };
    const transfer = text(biz.out_biz_no) ? this.transfers.get(biz.out_biz_no as string) : undefined;
    if (!transfer) return { body: failure('ORDER_NOT_EXIST', '转账订单不存在') };
    return { body: success(transferOrderFields(transfer)) };
  }

  /** Ends a DEALING transfer; a failed one gives the money back to the payer's balance. */
  settleTransfer(outBizNo: string, outcome: 'SUCCESS' | 'FAIL'): Transfer {
    const transfer = this.transfers.get(outBizNo);
    if (!transfer || transfer.status !== 'DEALING') throw new Error(`no dealing transfer ${outBizNo}`);
    transfer.status = outcome;
    if (outcome === 'SUCCESS') transfer.payDate = this.clock();
    else {
      this.payerBalanceMinor += transfer.amountMinor;
      Object.assign(transfer, { errorCode: 'PAYEE_ACCOUNT_STATUS_ERROR', failReason: '收款方账户状态异常' });
    }
    return transfer;
  }
}

function transferAnswer(transfer: Transfer): Fields {
  return success({ out_biz_no: transfer.outBizNo, order_id: transfer.orderId, pay_fund_order_id: transfer.payFundOrderId, status: transfer.status, trans_date: beijing(transfer.createdAt) });
}

export function transferOrderFields(transfer: Transfer): Fields {
  return {
    order_id: transfer.orderId, pay_fund_order_id: transfer.payFundOrderId, out_biz_no: transfer.outBizNo, trans_amount: yuan(transfer.amountMinor),
    status: transfer.status, ...(transfer.payDate ? { pay_date: beijing(transfer.payDate) } : {}),
    ...(transfer.errorCode ? { error_code: transfer.errorCode, fail_reason: transfer.failReason } : {}),
  };
}

function parseBeijing(value: string): Date | null {
  const match = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(value);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  return new Date(Date.UTC(year, month - 1, day, hour - 8, minute, second));
}

export { parseBeijing };
