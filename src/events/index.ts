import type { Queryable } from '../db/pool.js';

export type AggregateType = 'trade' | 'refund' | 'settlement' | 'pay_attempt' | 'merchant' | 'app' | 'account' | 'preauth' | 'preauth_operation' | 'credit_bill' | 'credit_repayment';

/**
 * Records a state change as an event row. Call it inside the transaction that makes the change,
 * so the event exists exactly when the change does (the outbox later publishers read).
 */
export async function recordEvent(
  client: Queryable,
  aggregateType: AggregateType,
  aggregateId: string,
  eventType: string,
  payload: Record<string, unknown>,
): Promise<void> {
  await client.query(
    'insert into events (aggregate_type, aggregate_id, event_type, payload) values ($1, $2, $3, $4)',
    [aggregateType, aggregateId, eventType, JSON.stringify(payload, jsonBigint)],
  );
}

export interface EventRecord {
  aggregateType: AggregateType;
  aggregateId: string;
  eventType: string;
  payload: Record<string, unknown>;
}

/** Records several state changes of one transaction in one statement. */
export async function recordEvents(client: Queryable, events: readonly EventRecord[]): Promise<void> {
  await client.query(
    `insert into events (aggregate_type, aggregate_id, event_type, payload)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])`,
    [
      events.map((event) => event.aggregateType),
      events.map((event) => event.aggregateId),
      events.map((event) => event.eventType),
      events.map((event) => JSON.stringify(event.payload, jsonBigint)),
    ],
  );
}

export function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export async function listEvents(client: Queryable, aggregateType: AggregateType, aggregateId: string) {
  const { rows } = await client.query<{ event_type: string; payload: Record<string, unknown>; created_at: Date }>(
    'select event_type, payload, created_at from events where aggregate_type = $1 and aggregate_id = $2 order by event_id',
    [aggregateType, aggregateId],
  );
  return rows;
}
