export { payAnswer, tradeMethods } from './methods.js';
export { tradeJobHandlers } from './jobs.js';
export { channelCallbackRoutes, type OperationCallbackHandler } from './callbacks.js';
export { listAttempts, listRefunds, findTrade, findTradeByNo, type TradeRow } from './repository.js';
export { listSettlements, type SettlementRow } from './escrow-repository.js';
export {
  closeReversedCapturedTrade,
  insertCapturedTrade,
  lockCapturedTrade,
  releaseCapturedTradeReversal,
  reserveCapturedTradeReversal,
  type CapturedPayment,
} from './captured.js';
export { tradeAmount, tradeCurrency } from './create.js';
export { channelNotifyUrl, payTrade, type PayOutcome, type RechargeTarget, type ResolvedPayer } from './pay.js';
export { compact, createPresenter, type Presenter } from './present.js';
export { insertDiscrepancy } from './repository.js';
