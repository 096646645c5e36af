export { tradeMethods } from './methods.js';
export { tradeJobHandlers } from './jobs.js';
export { channelCallbackRoutes } from './callbacks.js';
export { listAttempts, listRefunds, findTradeByNo, type TradeRow } from './repository.js';
export { listSettlements, type SettlementRow } from './escrow-repository.js';
