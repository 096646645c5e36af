/**
 * The UnionPay online gateway channel (中国银联 全渠道, version 5.1.0). See docs/channels/unionpay.md for the
 * products, the configuration, the number and status mapping, and the limits of the sent-order book.
 */
export { createUnionpayAdapter, unionpayCapabilities, unionpayProducts, type UnionpayAdapter, type UnionpayAdapterOptions } from './adapter.js';
export { parseUnionpayConfig, UnionpayConfigError, UnionpayConfigSchema, type UnionpayConfig } from './config.js';
export { MemorySentOrderBook, type SentOrder, type SentOrderBook } from './sent-orders.js';
export type { UnionpayPreauth } from './preauth.js';
export { statementHeader } from './statement.js';
