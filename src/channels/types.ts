/**
 * The channel interface every payment channel adapter implements (sandbox now; Alipay, WeChat Pay,
 * UnionPay, Stripe later). Rules every adapter keeps:
 * - Wire formats and status mapping live in pure functions; an unknown channel status never maps to success.
 * - A decline is data (`FAILED`), not an exception. A timeout, a 5xx or an unreadable answer is `UNKNOWN`:
 *   money may have moved, so the caller must query, never assume failure.
 * - The adapter checks that the amount and currency the channel echoes back equal what was asked.
 * - Adapters are called outside database transactions and keep no state of their own besides configuration.
 *
 * Example (a minimal adapter):
 *   const adapter: ChannelAdapter = {
 *     name: 'mybank', capabilities: { products: ['QUICK_PAY'], currencies: ['CNY'], resultMode: 'sync', ... },
 *     async pay(request) { const answer = await post('/pay', toWire(request)); return fromWire(answer, request); },
 *     ...
 *   };
 */

export interface ChannelCapabilities {
  readonly products: readonly string[];
  readonly currencies: readonly string[];
  /** sync: pay() answers with the final result; async: the result comes by callback or query; both: depends on the request */
  readonly resultMode: 'sync' | 'async' | 'both';
  readonly refund: boolean;
  readonly partialRefund: boolean;
  readonly close: boolean;
  readonly cancel: boolean;
  readonly preauth: boolean;
  readonly payout: boolean;
  /** Signed agreements (签约) for quick pay and withholding; absent means false. */
  readonly agreements?: boolean;
  readonly statement: boolean;
  /**
   * The money is collected into an account of the platform's, so Tongbao can hold it in escrow (担保) until the
   * buyer confirms. A gateway-only channel that pays the merchant directly cannot, and is never offered for
   * escrow trades; neither is any instance configured with a merchant's own account.
   */
  readonly escrow: boolean;
  /** Largest single payment the channel accepts, in minor units; null for no limit. */
  readonly maxAmountMinor: bigint | null;
}

export interface ChannelPayRequest {
  /** Tongbao's attempt number: the channel's out_trade_no; unique per try, the idempotency key at the channel. */
  readonly attemptNo: string;
  readonly tradeNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly subject: string;
  /** Absolute expiry of the order; the channel should not accept payment after it. */
  readonly expiresAt: Date;
  /** Where the channel posts its asynchronous result. */
  readonly notifyUrl: string;
  /** One of capabilities.products; the adapter's first product when absent. */
  readonly product?: string;
  /**
   * Who pays, as the channel knows them, where the product needs it: a WeChat openid for JSAPI, an Alipay
   * buyer id, a Stripe payment method id, a card token. Never a full card number.
   */
  readonly payer?: { readonly type: string; readonly id: string };
  /** Where the payer's browser returns after a page or redirect product. */
  readonly returnUrl?: string;
}

/**
 * What the payer has to do to finish a payment the channel accepted but has not settled: scan a QR code,
 * follow a redirect, submit a form, or hand parameters to the channel's app SDK. Passed back to the business
 * system unchanged; the result then arrives by callback or query.
 */
export type PayerAction =
  | { readonly type: 'QR_CODE'; readonly content: string }
  | { readonly type: 'REDIRECT'; readonly url: string }
  | { readonly type: 'FORM'; readonly url: string; readonly fields: Readonly<Record<string, string>> }
  | { readonly type: 'SDK'; readonly parameters: Readonly<Record<string, string>> };

export type ChannelPayResult =
  | { readonly status: 'SUCCEEDED'; readonly channelTradeNo: string; readonly amountMinor: bigint; readonly currency: string; readonly paidAt: Date }
  | { readonly status: 'PENDING'; readonly channelTradeNo?: string; readonly payerAction?: PayerAction }
  | { readonly status: 'FAILED'; readonly code: string; readonly message: string; readonly channelTradeNo?: string }
  | { readonly status: 'UNKNOWN'; readonly reason: string };

/**
 * What Tongbao knows about an attempt when it asks the channel about it, so an adapter never has to read
 * Tongbao's tables: the attempt number (the channel's out_trade_no), the channel's own number once Tongbao
 * learned it (a pending answer, a callback), and the amount and currency asked.
 */
export interface ChannelQueryRequest {
  readonly attemptNo: string;
  readonly channelTradeNo: string | null;
  readonly amountMinor: bigint;
  readonly currency: string;
}

/** Query answers add NOT_FOUND: the channel never saw this attempt (so nothing was charged). */
export type ChannelQueryResult = ChannelPayResult | { readonly status: 'NOT_FOUND' };

export interface ChannelRefundRequest {
  readonly refundNo: string;
  readonly attemptNo: string;
  readonly channelTradeNo: string | null;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly reason: string | null;
  readonly notifyUrl: string;
  /** What the refunded payment took (its attempt's amount); WeChat Pay names the order total with every refund. */
  readonly paymentAmountMinor: bigint;
}

/** What Tongbao knows about a refund when it asks the channel about it (see ChannelQueryRequest). */
export interface ChannelRefundQueryRequest {
  readonly refundNo: string;
  /** The refunded payment's attempt number: Alipay finds a refund only under its trade. */
  readonly attemptNo: string;
  readonly channelTradeNo: string | null;
  /** What the refunded payment took. */
  readonly paymentAmountMinor: bigint;
  /** The refund's own amount and currency. */
  readonly amountMinor: bigint;
  readonly currency: string;
}

export type ChannelRefundResult =
  | { readonly status: 'SUCCEEDED'; readonly channelRefundNo: string; readonly amountMinor: bigint; readonly currency: string }
  | { readonly status: 'PENDING'; readonly channelRefundNo?: string }
  | { readonly status: 'FAILED'; readonly code: string; readonly message: string }
  | { readonly status: 'UNKNOWN'; readonly reason: string };

export type ChannelRefundQueryResult = ChannelRefundResult | { readonly status: 'NOT_FOUND' };

export type ChannelCloseResult =
  | { readonly status: 'CLOSED' }
  /** The attempt was paid before the close arrived: the caller must record the success instead. */
  | { readonly status: 'ALREADY_PAID' }
  | { readonly status: 'UNKNOWN'; readonly reason: string };

/** A callback from the channel, verified and parsed. */
export type ChannelNotification =
  | { readonly kind: 'PAYMENT'; readonly attemptNo: string; readonly result: ChannelPayResult }
  | { readonly kind: 'REFUND'; readonly refundNo: string; readonly result: ChannelRefundResult }
  /** A pre-authorization step or a payout settled at the channel; operationNo is Tongbao's number for it. */
  | { readonly kind: 'OPERATION'; readonly operationNo: string; readonly result: ChannelOperationResult }
  /**
   * Genuine, but nothing for Tongbao to do (an event type it does not act on): acknowledged as received, so the
   * channel stops sending it, and logged without a warning. `about` names it for the log (an event type).
   */
  | { readonly kind: 'IGNORED'; readonly about: string };

export interface InboundChannelRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawBody: string;
  /** The path of the notify URL Tongbao gave the channel, for channels that sign it. */
  readonly path?: string;
}

/**
 * A callback that verified. The adapter does not remember callbacks itself: it names the callback by a
 * replay key (a notify_id, a nonce, an event delivery) and says how long the key must be remembered (after
 * that the same callback is refused as stale anyway). Tongbao refuses a key already spent, and spends it
 * only once the callback's outcome is stored, in PostgreSQL, so every Tongbao process shares the memory.
 */
export interface VerifiedNotification {
  readonly ok: true;
  readonly notification: ChannelNotification;
  readonly replayKey: string;
  readonly replayWindowMs: number;
}

export type NotificationVerification = VerifiedNotification | { readonly ok: false; readonly reason: string };

/** What Tongbao answers the channel's callback with, in the channel's own words. */
export interface ChannelAcknowledgement {
  readonly statusCode: number;
  readonly contentType: string;
  readonly body: string;
}

/**
 * Cancel (撤销): a full reversal of one attempt, used the same day before settlement. A paid attempt is
 * refunded in full by the channel, an unpaid one is closed; the caller cannot choose the amount.
 */
export interface ChannelCancelRequest {
  /** Tongbao's own number for this cancel: the idempotency key at the channel where it takes one. */
  readonly cancelNo: string;
  readonly attemptNo: string;
  readonly channelTradeNo: string | null;
  readonly amountMinor: bigint;
  readonly currency: string;
}

export type ChannelCancelResult =
  /** `refunded`: money had moved and went back to the payer; false when the attempt was closed unpaid. */
  | { readonly status: 'CANCELLED'; readonly refunded: boolean }
  /** The channel refuses (for example, past its same-day cut-off): nothing changed; the caller should refund. */
  | { readonly status: 'FAILED'; readonly code: string; readonly message: string }
  | { readonly status: 'UNKNOWN'; readonly reason: string };

/**
 * The answer to a money operation other than pay and refund (a pre-authorization step, a payout).
 * Same rules: a decline is FAILED, anything untrusted or late is UNKNOWN and must be queried.
 */
export type ChannelOperationResult =
  | { readonly status: 'SUCCEEDED'; readonly channelRef: string; readonly amountMinor: bigint; readonly currency: string; readonly finishedAt: Date }
  | { readonly status: 'PENDING'; readonly channelRef?: string }
  | { readonly status: 'FAILED'; readonly code: string; readonly message: string }
  | { readonly status: 'UNKNOWN'; readonly reason: string };

export type ChannelOperationQueryResult = ChannelOperationResult | { readonly status: 'NOT_FOUND' };

/** A freeze's answer: like any operation's, but a hold the payer has to finish (a form, a redirect) says how. */
export type ChannelFreezeResult =
  | Exclude<ChannelOperationResult, { readonly status: 'PENDING' }>
  | { readonly status: 'PENDING'; readonly channelRef?: string; readonly payerAction?: PayerAction };

/**
 * Pre-authorization (预授权): hold an amount on the payer's means of payment, then capture part or all of it.
 * Every step has Tongbao's own operation number (unique, the idempotency key at the channel) and names the
 * hold by the channel's reference returned by freeze.
 */
export interface ChannelPreauthFreezeRequest {
  readonly operationNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly subject: string;
  /** When the hold lapses at the channel if nothing captured it. */
  readonly expiresAt: Date;
  readonly notifyUrl: string;
  /** Whose means of payment is held, as for ChannelPayRequest.payer: a card token, a Stripe PaymentMethod id. */
  readonly payer?: { readonly type: string; readonly id: string };
  /** Where the payer's browser returns after a form or redirect hold. */
  readonly returnUrl?: string;
}

export interface ChannelPreauthStepRequest {
  readonly operationNo: string;
  /** The channel's reference of the hold (freeze's channelRef). */
  readonly authRef: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  readonly notifyUrl: string;
}

export interface ChannelPreauthCompleteCancelRequest extends ChannelPreauthStepRequest {
  /** The channel's reference of the completion being reversed. */
  readonly completeRef: string;
}

export interface ChannelPreauth {
  freeze(request: ChannelPreauthFreezeRequest): Promise<ChannelFreezeResult>;
  /** Releases the whole hold. */
  unfreeze(request: ChannelPreauthStepRequest): Promise<ChannelOperationResult>;
  /**
   * Captures up to the held amount; the channel releases the rest. The captured money is then refunded like a
   * payment: refund() with attemptNo = this operationNo and channelTradeNo = the answer's channelRef.
   */
  complete(request: ChannelPreauthStepRequest): Promise<ChannelOperationResult>;
  /** Reverses a completion in full; the hold is valid again. */
  completeCancel(request: ChannelPreauthCompleteCancelRequest): Promise<ChannelOperationResult>;
  query(operationNo: string): Promise<ChannelOperationQueryResult>;
}

/** Payout (代付/出款): the channel pays a person or account out of the merchant's funds at the channel. */
export interface ChannelPayoutRequest {
  readonly payoutNo: string;
  readonly amountMinor: bigint;
  readonly currency: string;
  /** The payee as the channel knows it: an account login, a card token, an openid, ... */
  readonly payee: { readonly type: string; readonly identity: string; readonly name?: string };
  readonly remark: string | null;
}

export interface ChannelPayouts {
  payout(request: ChannelPayoutRequest): Promise<ChannelOperationResult>;
  query(payoutNo: string): Promise<ChannelOperationQueryResult>;
}

/**
 * Agreements (签约/解约): the payer signs, at the bank, that the merchant may charge a card without card data
 * (快捷支付) or debit it without the payer present (代扣). Signing takes two steps: sign sends the card to the
 * bank, which texts the payer a verification code; confirm hands that code back. The card data is passed
 * through and must never be stored or logged. Tongbao's agreement number is the idempotency key at the channel.
 * Once ACTIVE, a payment names the agreement as payer `{ type: 'AGREEMENT', id: channelAgreementNo }`.
 */
export type AgreementType = 'QUICK_PAY' | 'WITHHOLDING';

export interface ChannelAgreementSignRequest {
  readonly agreementNo: string;
  readonly agreementType: AgreementType;
  readonly card: {
    readonly number: string;
    readonly cardType: 'DEBIT' | 'CREDIT';
    readonly holderName: string;
    readonly mobile: string;
    /** Credit cards only: MMYY and the security code, passed to the bank and never kept. */
    readonly expiry?: string;
    readonly cvv?: string;
  };
}

export type ChannelAgreementResult =
  /** The bank texted a code to the payer; the sign waits for confirm until codeExpiresAt. */
  | { readonly status: 'CODE_SENT'; readonly codeExpiresAt: Date }
  /** The code was wrong; the sign still waits, with this many tries left. */
  | { readonly status: 'CODE_INVALID'; readonly attemptsLeft: number }
  | { readonly status: 'ACTIVE'; readonly channelAgreementNo: string; readonly signedAt: Date }
  | { readonly status: 'TERMINATED'; readonly terminatedAt: Date }
  /** The bank refused the sign, or ended it (expired code, too many wrong codes). */
  | { readonly status: 'FAILED'; readonly code: string; readonly message: string }
  | { readonly status: 'UNKNOWN'; readonly reason: string };

export interface ChannelAgreements {
  sign(request: ChannelAgreementSignRequest): Promise<ChannelAgreementResult>;
  confirm(request: { readonly agreementNo: string; readonly code: string }): Promise<ChannelAgreementResult>;
  /** Ends the agreement at the bank (解约); payments naming it are refused there from then on. */
  terminate(request: { readonly agreementNo: string }): Promise<ChannelAgreementResult>;
  query(agreementNo: string): Promise<ChannelAgreementResult | { readonly status: 'NOT_FOUND' }>;
}

export interface ChannelAdapter {
  readonly name: string;
  readonly capabilities: ChannelCapabilities;
  pay(request: ChannelPayRequest): Promise<ChannelPayResult>;
  query(request: ChannelQueryRequest): Promise<ChannelQueryResult>;
  refund(request: ChannelRefundRequest): Promise<ChannelRefundResult>;
  queryRefund(request: ChannelRefundQueryRequest): Promise<ChannelRefundQueryResult>;
  close(attemptNo: string): Promise<ChannelCloseResult>;
  /** Verifies the signature and freshness of a callback and parses it; never throws for bad input. */
  verifyNotification(request: InboundChannelRequest): NotificationVerification;
  acknowledge(accepted: boolean): ChannelAcknowledgement;
  /** The channel's statement of one day (yyyy-MM-dd in the channel's zone), as the CSV text it publishes. */
  downloadStatement(date: string): Promise<string>;
  /** Present exactly when capabilities.cancel. */
  cancel?(request: ChannelCancelRequest): Promise<ChannelCancelResult>;
  /** Present exactly when capabilities.preauth. */
  readonly preauth?: ChannelPreauth;
  /** Present exactly when capabilities.payout. */
  readonly payouts?: ChannelPayouts;
  /** Present exactly when capabilities.agreements. */
  readonly agreements?: ChannelAgreements;
}

/** Tongbao's own number a callback is about: the attempt, refund or operation number; null for an ignored one. */
export function notificationSubjectNo(notification: ChannelNotification): string | null {
  switch (notification.kind) {
    case 'PAYMENT': return notification.attemptNo;
    case 'REFUND': return notification.refundNo;
    case 'OPERATION': return notification.operationNo;
    case 'IGNORED': return null;
  }
}
