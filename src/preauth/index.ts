/**
 * Pre-authorization (预授权): hold an amount on the payer's means of payment, then capture part or all of it
 * (the rest released), release it whole, or let it expire; a capture can be cancelled in full, after which the
 * hold is valid again. A capture becomes a paid trade, refundable like any other. docs/api.md has the methods.
 */
export { recordPreauthCallback } from './callbacks.js';
export { preauthJobHandlers } from './jobs.js';
export { preauthMethods } from './methods.js';
