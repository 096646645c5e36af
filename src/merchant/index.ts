export * from './service.js';
export { findAppForGateway, findApp, countMerchants, type AppRow, type GatewayAppRow, type MerchantRow } from './repository.js';
