/**
 * Job keys of the scheduled jobs that belong to one record: at most one pending job per key. The sweep's
 * SQL looks jobs up by these same keys (the prefixes are passed to it), so they are defined only here.
 */
export const jobKeyPrefixes = {
  expire: 'trade-expire:',
  payQuery: 'pay-query:',
  refundQuery: 'refund-query:',
  escrowSettle: 'escrow-settle:',
} as const;

export const jobKeys = {
  expire: (tradeNo: string) => `${jobKeyPrefixes.expire}${tradeNo}`,
  payQuery: (attemptNo: string) => `${jobKeyPrefixes.payQuery}${attemptNo}`,
  refundQuery: (refundNo: string) => `${jobKeyPrefixes.refundQuery}${refundNo}`,
  escrowSettle: (tradeNo: string) => `${jobKeyPrefixes.escrowSettle}${tradeNo}`,
};
