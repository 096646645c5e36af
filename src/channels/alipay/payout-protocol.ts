/**
 * Alipay's transfer methods as Tongbao's payouts: alipay.fund.trans.uni.transfer (单笔转账, product
 * TRANS_ACCOUNT_NO_PWD, scene DIRECT_TRANSFER) and alipay.fund.trans.common.query. out_biz_no is Tongbao's
 * payout number, the idempotency key at Alipay. Pure mapping only, like protocol.ts.
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ChannelOperationQueryResult, ChannelOperationResult, ChannelPayoutRequest } from '../types.js';
import { alipayCurrency, parseBeijingTime, parseYuan, yuan, type GatewayAnswer } from './protocol.js';

export const transferProductCode = 'TRANS_ACCOUNT_NO_PWD';
export const transferBizScene = 'DIRECT_TRANSFER';
/** Payee identities the transfer takes: an Alipay login (phone or email, needs the real name) or a 2088 user id. */
export const payeeIdentityTypes = ['ALIPAY_LOGON_ID', 'ALIPAY_USER_ID'] as const;

/** Why a payout cannot be sent at all, or null; checked before any call so Alipay never sees it. */
export function payoutRequestProblem(request: ChannelPayoutRequest): { code: string; message: string } | null {
  if (request.currency !== alipayCurrency) return { code: 'CURRENCY_NOT_SUPPORTED', message: `Alipay transfers pay ${alipayCurrency} only, not ${request.currency}` };
  if (request.amountMinor <= 0n) return { code: 'INVALID_AMOUNT', message: 'the payout amount must be positive' };
  if (!(payeeIdentityTypes as readonly string[]).includes(request.payee.type)) {
    return { code: 'PAYEE_TYPE_NOT_SUPPORTED', message: `payee type must be one of ${payeeIdentityTypes.join(', ')}` };
  }
  if (request.payee.type === 'ALIPAY_LOGON_ID' && !request.payee.name) return { code: 'PAYEE_NAME_REQUIRED', message: 'Alipay needs the payee name with a login id' };
  return null;
}

export function transferBizContent(request: ChannelPayoutRequest): Record<string, unknown> {
  return {
    out_biz_no: request.payoutNo,
    trans_amount: yuan(request.amountMinor),
    product_code: transferProductCode,
    biz_scene: transferBizScene,
    order_title: (request.remark ?? 'payout').slice(0, 128),
    payee_info: {
      identity: request.payee.identity,
      identity_type: request.payee.type,
      ...(request.payee.name ? { name: request.payee.name } : {}),
    },
    ...(request.remark ? { remark: request.remark.slice(0, 200) } : {}),
  };
}

export function transferQueryBizContent(payoutNo: string): Record<string, string> {
  return { out_biz_no: payoutNo, product_code: transferProductCode, biz_scene: transferBizScene };
}

const TransferBody = Type.Object({
  out_biz_no: Type.String(),
  order_id: Type.Optional(Type.String()),
  status: Type.String(),
  trans_date: Type.Optional(Type.String()),
});
const TransferOrderBody = Type.Object({
  out_biz_no: Type.String(),
  order_id: Type.Optional(Type.String()),
  status: Type.String(),
  trans_amount: Type.Optional(Type.String()),
  pay_date: Type.Optional(Type.String()),
  error_code: Type.Optional(Type.String()),
  fail_reason: Type.Optional(Type.String()),
});
const checkTransfer = TypeCompiler.Compile(TransferBody);
export const checkTransferOrder = TypeCompiler.Compile(TransferOrderBody);

function uncertain(reason: string): { status: 'UNKNOWN'; reason: string } {
  return { status: 'UNKNOWN', reason };
}

/** alipay.fund.trans.uni.transfer. The answer does not echo the amount; success is reported at the amount sent. */
export function payoutResultFromAnswer(answer: GatewayAnswer, request: ChannelPayoutRequest): ChannelOperationResult {
  if (answer.kind === 'UNCERTAIN') return uncertain(answer.reason);
  if (answer.kind === 'REFUSED') return { status: 'FAILED', code: answer.subCode, message: answer.message };
  if (!checkTransfer.Check(answer.body)) return uncertain('Alipay answered the transfer unreadably');
  const body = answer.body;
  if (body.out_biz_no !== request.payoutNo) return uncertain(`Alipay answered for ${body.out_biz_no.slice(0, 64)}, not ${request.payoutNo}`);
  switch (body.status) {
    case 'SUCCESS': {
      const finishedAt = parseBeijingTime(body.trans_date);
      if (!body.order_id || !finishedAt) return uncertain('Alipay reported a transfer without order_id or trans_date');
      return { status: 'SUCCEEDED', channelRef: body.order_id, amountMinor: request.amountMinor, currency: alipayCurrency, finishedAt };
    }
    case 'DEALING':
      return body.order_id ? { status: 'PENDING', channelRef: body.order_id } : { status: 'PENDING' };
    case 'FAIL':
      return { status: 'FAILED', code: 'FAIL', message: 'Alipay failed the transfer' };
    default:
      return uncertain(`unknown transfer status "${body.status.slice(0, 40)}"`);
  }
}

/**
 * A transfer order as alipay.fund.trans.common.query or the alipay.fund.trans.order.changed message report
 * it. REFUND (退票) means the money came back after the transfer: the payout did not reach the payee.
 */
export function transferOrderResult(order: { out_biz_no: string; order_id?: string; status: string; trans_amount?: string; pay_date?: string; error_code?: string; fail_reason?: string }, payoutNo: string): ChannelOperationResult {
  if (order.out_biz_no !== payoutNo) return uncertain(`Alipay answered for ${order.out_biz_no.slice(0, 64)}, not ${payoutNo}`);
  switch (order.status) {
    case 'SUCCESS': {
      const amountMinor = parseYuan(order.trans_amount);
      const finishedAt = parseBeijingTime(order.pay_date);
      if (amountMinor === null || !finishedAt || !order.order_id) return uncertain('Alipay reported a transfer without a readable amount, pay_date or order_id');
      return { status: 'SUCCEEDED', channelRef: order.order_id, amountMinor, currency: alipayCurrency, finishedAt };
    }
    case 'DEALING':
    case 'WAIT_PAY':
      return order.order_id ? { status: 'PENDING', channelRef: order.order_id } : { status: 'PENDING' };
    case 'FAIL':
    case 'CLOSED':
    case 'REFUND':
      return { status: 'FAILED', code: order.error_code || order.status, message: order.fail_reason || `the transfer ended ${order.status}` };
    default:
      return uncertain(`unknown transfer status "${order.status.slice(0, 40)}"`);
  }
}

export function payoutQueryResultFromAnswer(answer: GatewayAnswer, payoutNo: string): ChannelOperationQueryResult {
  if (answer.kind === 'UNCERTAIN') return uncertain(answer.reason);
  if (answer.kind === 'REFUSED') {
    if (answer.subCode === 'ORDER_NOT_EXIST') return { status: 'NOT_FOUND' };
    return uncertain(`Alipay refused the transfer query: ${answer.subCode} ${answer.message}`);
  }
  if (!checkTransferOrder.Check(answer.body)) return uncertain('Alipay answered the transfer query unreadably');
  return transferOrderResult(answer.body, payoutNo);
}
