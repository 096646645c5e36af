/**
 * The Alipay simulator for tests: start it with the app's public key and its own Alipay key pair, point the
 * adapter's gatewayUrl at `gatewayUrl`, and drive payers and failures with its scenario controls.
 */
export { startAlipaySimulator, type AlipaySimulator, type AlipaySimulatorOptions, type Scenario } from './simulator.js';
export { billDetailHeader } from './bill.js';
export type { Payee } from './books.js';
export type { Delivery } from './notifier.js';
