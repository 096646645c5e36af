/**
 * The Alipay channel (支付宝, domestic OpenAPI): QR-code (precreate) and desktop-web (page pay) payments,
 * query, refund, close, cancel, transfers as payouts, and the daily trade bill. See docs/channels/alipay.md.
 */
export { alipayCapabilities, alipayProducts, createAlipayAdapter, type AlipayAdapter } from './adapter.js';
export { AlipayConfigError, AlipayConfigSchema, defaultGatewayUrl, parseAlipayConfig, Secret, type AlipayConfig, type AlipayConfigInput } from './config.js';
export { payeeIdentityTypes } from './payout-protocol.js';
