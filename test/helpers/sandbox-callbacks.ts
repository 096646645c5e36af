
/** Helpers for the sandbox channel's tests (src/channels/sandbox/*.test.ts): a callback endpoint and waiting. */

export { CallbackReceiver, type ReceivedCallback } from './callback-receiver.js';

export { sleep, waitFor } from './wait.js';
