/**
 * The WeChat Pay API v3 channel (微信支付): Native (QR code) and JSAPI (in WeChat) payments, refunds, close,
 * callbacks and the daily trade bill, for direct merchants in platform public key mode. See
 * docs/channels/wechat.md for the configuration, the number and status mapping, and the simulator.
 */
export { createWechatAdapter, wechatCapabilities, type WechatAdapter } from './adapter.js';
export { parseWechatConfig, Secret, WechatConfigError, WechatConfigSchema, defaultWechatBaseUrl, type WechatConfig, type WechatConfigInput } from './config.js';
export { wechatProducts, type WechatProduct } from './protocol.js';
