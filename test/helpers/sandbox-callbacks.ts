
/** Helpers for the sandbox channel's tests (src/channels/sandbox/*.test.ts): a callback endpoint and waiting. */

export { CallbackReceiver, type ReceivedCallback } from './callback-receiver.js';

export async function waitFor<T>(find: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('waited too long');
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
