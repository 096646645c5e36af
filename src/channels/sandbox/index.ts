/**
 * The built-in sandbox channel: a simulated bank (its own HTTP server, keys and books) and the Tongbao
 * adapter that talks to it over HTTP. See docs/sandbox.md for the protocol and the magic amounts.
 */
export { createSandboxAdapter, sandboxCapabilities, type SandboxAdapter, type SandboxAdapterConfig } from './adapter.js';
export { generateEd25519KeyPair, generateSandboxCredentials, type Ed25519KeyPair, type SandboxCredentials } from './keys.js';
export { paymentMagicAmounts, preauthMagicAmounts, refundMagicAmounts, type MagicAmount, type PaymentScenario, type RefundScenario } from './scenarios.js';
export { startSandboxBank, type SandboxBank, type SandboxBankOptions } from './simulator.js';
export { sandboxHeaders, statementHeader } from './protocol.js';
