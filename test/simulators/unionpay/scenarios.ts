/**
 * How tests steer the UnionPay simulator. Magic amounts (in fen) choose what happens to a consume, pre-auth,
 * completion or refund, the way acquirers' test environments do; answer faults, queued on the simulator, bend
 * the next answer of any endpoint.
 */
export const magicAmounts = {
  /** Declined at once: respCode 60 (交易失败，详情请咨询您的发卡行). */
  declined: 4001n,
  /** Accepted (00), then fails: the query and callback say 64 (卡上的余额不足). */
  declinedLater: 4002n,
  /** HTTP 500; nothing is recorded. */
  serverError: 5003n,
  /** No answer ever; nothing is recorded. */
  hangUncharged: 5004n,
  /** No answer ever, but the transaction succeeds. */
  hangCharged: 5005n,
  /** Answered 05 (accepted, processing); succeeds after the settle delay, then the callback is sent. */
  processing: 6001n,
  /** Accepted (00) but still processing; succeeds after the settle delay without a callback. Front payments: the payer never pays. */
  slow: 6003n,
} as const;

export type MoneyScenario = keyof typeof magicAmounts | 'normal';

export function scenarioOf(amountMinor: bigint): MoneyScenario {
  for (const [name, amount] of Object.entries(magicAmounts)) if (amount === amountMinor) return name as MoneyScenario;
  return 'normal';
}

/**
 * Faults for the next answer: HTTP 500 or no answer at all (after the request took effect), a signature that
 * does not cover the fields, a certificate under another root, an expired one, one naming someone else, an
 * answer without signature, or a correctly signed answer echoing another amount or currency, or a status
 * UnionPay never documented.
 */
export type AnswerFault =
  | 'http500'
  | 'hang'
  | 'badSignature'
  | 'untrustedCertificate'
  | 'expiredCertificate'
  | 'wrongSignerName'
  | 'unsigned'
  | 'wrongAmount'
  | 'wrongCurrency'
  | 'unknownStatus';
