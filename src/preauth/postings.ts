import { channelClearing, channelPreauthHeld, merchantPending, merchantPreauthHeld, type Entry, type Posting } from '../ledger/index.js';
import type { AuthRow, OperationRow } from './repository.js';

/**
 * The journal transaction a succeeded operation posts, as a pure function of the hold and the operation.
 * Held money sits in a memo pair (channel preauth_held against merchant preauth_held), never in the merchant's
 * pending balance: the merchant is owed only what was captured.
 *
 * | Operation        | Entries                                                                        |
 * | FREEZE           | hold the amount                                                                |
 * | UNFREEZE         | release the hold                                                               |
 * | COMPLETE         | release the whole hold, and book the captured amount as a payment              |
 * | COMPLETE_CANCEL  | reverse that payment, and hold the whole amount again                          |
 */
export function postingFor(auth: AuthRow, operation: OperationRow): Posting {
  const { channel, currency, merchant_id: merchantId } = auth;
  const hold = (amountMinor: bigint): Entry[] => [
    { account: channelPreauthHeld(channel, currency), side: 'DEBIT', amountMinor },
    { account: merchantPreauthHeld(merchantId, currency), side: 'CREDIT', amountMinor },
  ];
  const release = (amountMinor: bigint): Entry[] => [
    { account: merchantPreauthHeld(merchantId, currency), side: 'DEBIT', amountMinor },
    { account: channelPreauthHeld(channel, currency), side: 'CREDIT', amountMinor },
  ];
  const capture = (amountMinor: bigint): Entry[] => [
    { account: channelClearing(channel, currency), side: 'DEBIT', amountMinor },
    { account: merchantPending(merchantId, currency), side: 'CREDIT', amountMinor },
  ];
  const reverseCapture = (amountMinor: bigint): Entry[] => [
    { account: merchantPending(merchantId, currency), side: 'DEBIT', amountMinor },
    { account: channelClearing(channel, currency), side: 'CREDIT', amountMinor },
  ];
  const entries = {
    FREEZE: () => hold(auth.amount_minor),
    UNFREEZE: () => release(auth.amount_minor),
    COMPLETE: () => [...release(auth.amount_minor), ...capture(operation.amount_minor)],
    COMPLETE_CANCEL: () => [...reverseCapture(operation.amount_minor), ...hold(auth.amount_minor)],
  }[operation.kind]();
  return {
    kind: `PREAUTH_${operation.kind}`,
    reference: operation.operation_no,
    currency,
    description: `${operation.kind.toLowerCase()} of pre-authorization ${auth.auth_no}`,
    entries,
  };
}
