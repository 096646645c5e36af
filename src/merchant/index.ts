export * from './service.js';
export { findAppForGateway, findApp, findMerchant, findMerchants, countMerchants, type AppRow, type GatewayAppRow, type MerchantRow } from './repository.js';
