/**
 * The Stripe channel: card payments, refunds, close, pre-authorization (manual capture), webhooks and daily
 * balance-transaction statements through the official `stripe` package. See docs/channels/stripe.md.
 */
export { createStripeAdapter, stripeCapabilities, type StripeAdapter } from './adapter.js';
export { parseStripeConfig, StripeConfigSchema, StripeSecret, stripeConfigDefaults, type StripeConfig, type StripeConfigInput } from './config.js';
export { completeCancelRefusal, type StripePreauth } from './preauth.js';
export { metadataKeys, stripeCurrencies, stripeProducts } from './protocol.js';
export { paymentIntentEvents, refundEvents } from './events.js';
export { statementHeader } from './statement.js';
