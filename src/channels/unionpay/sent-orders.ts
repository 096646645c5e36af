/**
 * What a later query needs to know about a request the adapter sent. UnionPay finds a transaction by orderId
 * AND the txnTime it was sent with (queryTrans has no lookup by orderId alone), but Tongbao's query(attemptNo)
 * passes only the number. So the adapter writes down each orderId's txnTime (and bizType, and the payer's
 * deadline for front payments) before it sends, and reads it back to query, refund or close.
 *
 * The default book is in memory and bounded: it serves queries made by the process that sent the request,
 * within its capacity. A process that did not send the request (another Tongbao process, or one restarted
 * since) finds nothing and answers UNKNOWN, which the caller's compensation schedule escalates. Pass a shared
 * book (for example one backed by a PostgreSQL table) to createUnionpayAdapter to lift that limit.
 */
export interface SentOrder {
  /** yyyyMMddHHmmss, Beijing time, exactly as sent. */
  readonly txnTime: string;
  readonly txnType: string;
  readonly bizType: string;
  /** Front payments: the payTimeout sent (yyyyMMddHHmmss); UnionPay refuses the payer after it. */
  readonly payTimeout?: string;
}

export interface SentOrderBook {
  /** Called before the request is sent; a failure stops the request, so nothing is sent unrecorded. */
  remember(orderId: string, order: SentOrder): void | Promise<void>;
  recall(orderId: string): SentOrder | undefined | Promise<SentOrder | undefined>;
}

/** The in-memory book. Past its capacity the oldest entries are forgotten first. */
export class MemorySentOrderBook implements SentOrderBook {
  private readonly orders = new Map<string, SentOrder>();

  constructor(private readonly capacity = 200_000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error('the sent-order book capacity must be a positive integer');
  }

  remember(orderId: string, order: SentOrder): void {
    // The first txnTime wins: a resend of the same orderId is refused by UnionPay as a duplicate (respCode 12),
    // and the original is the one a query must name.
    if (this.orders.has(orderId)) return;
    if (this.orders.size >= this.capacity) {
      const oldest = this.orders.keys().next();
      if (!oldest.done) this.orders.delete(oldest.value);
    }
    this.orders.set(orderId, order);
  }

  recall(orderId: string): SentOrder | undefined {
    return this.orders.get(orderId);
  }

  get size(): number {
    return this.orders.size;
  }
}
