/**
 * UnionPay pre-authorization (预授权): 02 holds an amount, 32 releases the whole hold, 03 captures up to the held
 * amount, 33 reverses a completion in full. Each step's orderId is Tongbao's operation number; the steps after
 * the hold name it by its queryId (origQryId), which freeze returns as channelRef.
 *
 * The hold itself needs the payer: with a card token it is a back-end request; without one it is a form the
 * payer's browser submits, returned as `payerAction` beside a PENDING result.
 */
import { now } from '../../clock.js';
import type {
  ChannelFreezeResult,
  ChannelOperationQueryResult,
  ChannelOperationResult,
  ChannelPreauth,
  ChannelPreauthCompleteCancelRequest,
  ChannelPreauthFreezeRequest,
  ChannelPreauthStepRequest,
} from '../types.js';
import type { UnionpayCore } from './core.js';
import { bizTypes, operationResultOf, requestProblem, txnTypes, type MoneyTransaction } from './protocol.js';

export type UnionpayPreauth = ChannelPreauth;

const preauthTxnTypes: readonly string[] = [txnTypes.preauth, txnTypes.preauthCancel, txnTypes.preauthComplete, txnTypes.preauthCompleteCancel];

export function createUnionpayPreauth(core: UnionpayCore): UnionpayPreauth {
  /** A step after the hold. Its bizType is the gateway's: UnionPay matches the original by origQryId. */
  async function step(txnType: string, request: ChannelPreauthStepRequest, origQryId: string): Promise<ChannelOperationResult> {
    const problem = requestProblem(request.operationNo, request.amountMinor, request.currency);
    if (problem) return { status: 'FAILED', ...problem };
    if (!origQryId) return { status: 'FAILED', code: 'INVALID_REFERENCE', message: 'the step names no UnionPay queryId' };
    const txn: MoneyTransaction = { txnType, bizType: bizTypes.gateway, orderId: request.operationNo, amountMinor: request.amountMinor, backUrl: request.notifyUrl, origQryId };
    return operationResultOf(await core.send(txn));
  }

  return {
    async freeze(request: ChannelPreauthFreezeRequest): Promise<ChannelFreezeResult> {
      const problem = requestProblem(request.operationNo, request.amountMinor, request.currency);
      if (problem) return { status: 'FAILED', ...problem };
      const common = { txnType: txnTypes.preauth, orderId: request.operationNo, amountMinor: request.amountMinor, backUrl: request.notifyUrl };
      // With a UnionPay card token the hold is made at once by a back-end request.
      if (request.payer) {
        const trId = core.config.tokenRequestorId;
        if (request.payer.type !== 'token' || !request.payer.id) return { status: 'FAILED', code: 'PAYER_REQUIRED', message: 'a back-end hold needs payer { type: "token", id }' };
        if (!trId) return { status: 'FAILED', code: 'TOKEN_NOT_CONFIGURED', message: 'tokenRequestorId is not configured' };
        return operationResultOf(await core.send({ ...common, bizType: bizTypes.noRedirect, token: { token: request.payer.id, trId } }));
      }
      // expiresAt is when the hold lapses, which UnionPay decides by its own rules (no request field sets it);
      // it is not the payer's deadline, so no payTimeout is sent. A hold already past it is not started.
      if (request.expiresAt.getTime() <= now().getTime()) return { status: 'FAILED', code: 'ORDER_EXPIRED', message: 'the hold expired before it was sent' };
      const form = await core.frontForm({ ...common, bizType: bizTypes.gateway, ...(request.returnUrl ? { frontUrl: request.returnUrl } : {}) });
      return form.ok ? { status: 'PENDING', payerAction: form.action } : { status: 'FAILED', code: form.code, message: form.message };
    },

    unfreeze: (request) => step(txnTypes.preauthCancel, request, request.authRef),
    complete: (request) => step(txnTypes.preauthComplete, request, request.authRef),
    completeCancel: (request: ChannelPreauthCompleteCancelRequest) => step(txnTypes.preauthCompleteCancel, request, request.completeRef),

    async query(operationNo): Promise<ChannelOperationQueryResult> {
      const outcome = await core.queryOrder(operationNo, preauthTxnTypes);
      return outcome.kind === 'NOT_FOUND' ? { status: 'NOT_FOUND' } : operationResultOf(outcome);
    },
  };
}
