/** SQL of credit bills and repayments: one function per query. Dates are 'YYYY-MM-DD' business dates. */
import type { Queryable } from '../db/pool.js';

export type BillStatus = 'OPEN' | 'OVERDUE' | 'PAID';

export interface BillRow {
  bill_no: string;
  app_id: string;
  user_id: string;
  account_no: string;
  trade_no: string;
  currency: string;
  amount_minor: bigint;
  repaid_minor: bigint;
  refunded_minor: bigint;
  statement_date: string;
  due_date: string;
  status: BillStatus;
  created_at: Date;
  updated_at: Date;
  paid_at: Date | null;
}

const billColumns = `bill_no, app_id, user_id, account_no, trade_no, currency, amount_minor, repaid_minor, refunded_minor,
  to_char(statement_date, 'YYYY-MM-DD') as statement_date, to_char(due_date, 'YYYY-MM-DD') as due_date, status, created_at, updated_at, paid_at`;

export function owedOf(bill: Pick<BillRow, 'amount_minor' | 'repaid_minor' | 'refunded_minor'>): bigint {
  return bill.amount_minor - bill.repaid_minor - bill.refunded_minor;
}

export async function insertBill(
  client: Queryable, bill: { appId: string; userId: string; accountNo: string; tradeNo: string; currency: string; amountMinor: bigint; statementDate: string; dueDays: number },
): Promise<BillRow> {
  const { rows } = await client.query<BillRow>(
    `insert into credit_bills (app_id, user_id, account_no, trade_no, currency, amount_minor, statement_date, due_date, status)
     values ($1, $2, $3, $4, $5, $6, $7::date, $7::date + $8::int, 'OPEN') returning ${billColumns}`,
    [bill.appId, bill.userId, bill.accountNo, bill.tradeNo, bill.currency, bill.amountMinor, bill.statementDate, bill.dueDays],
  );
  return rows[0]!;
}

export async function findBillByTrade(client: Queryable, tradeNo: string, lock = false): Promise<BillRow | undefined> {
  const { rows } = await client.query<BillRow>(`select ${billColumns} from credit_bills where trade_no = $1${lock ? ' for update' : ''}`, [tradeNo]);
  return rows[0];
}

/** The bills of a user still owing money in a currency, locked, oldest due first: the order repayments pay them. */
export async function lockOwingBills(client: Queryable, userId: string, currency: string, billNo: string | null): Promise<BillRow[]> {
  const { rows } = await client.query<BillRow>(
    `select ${billColumns} from credit_bills where user_id = $1 and currency = $2 and status <> 'PAID' and ($3::text is null or bill_no = $3)
     order by credit_bills.due_date, credit_bills.statement_date, bill_no for update`,
    [userId, currency, billNo],
  );
  return rows;
}

/** Adds to what was repaid or refunded on a bill; PAID once nothing is owed. The caller holds the bill locked. */
export async function coverBill(client: Queryable, billNo: string, column: 'repaid_minor' | 'refunded_minor', amountMinor: bigint): Promise<BillRow> {
  const { rows } = await client.query<BillRow>(
    `update credit_bills set ${column} = ${column} + $2, updated_at = now(),
       status = case when repaid_minor + refunded_minor + $2 = amount_minor then 'PAID' else status end,
       paid_at = case when repaid_minor + refunded_minor + $2 = amount_minor then now() end
     where bill_no = $1 returning ${billColumns}`,
    [billNo, amountMinor],
  );
  return rows[0]!;
}

/** Bills due before `today` and still owing become OVERDUE; returns how many. */
export async function markOverdue(client: Queryable, today: string, limit: number): Promise<number> {
  const { rowCount } = await client.query(
    `update credit_bills set status = 'OVERDUE', updated_at = now()
     where bill_no in (select bill_no from credit_bills where status = 'OPEN' and due_date < $1::date order by due_date limit $2)`,
    [today, limit],
  );
  return rowCount ?? 0;
}

export interface BillFilter {
  appId?: string | undefined;
  userId?: string | undefined;
  status?: BillStatus | undefined;
  billNo?: string | undefined;
  dueBefore?: string | undefined;
}

export async function listBills(client: Queryable, filter: BillFilter, limit: number, offset: number): Promise<BillRow[]> {
  const { rows } = await client.query<BillRow>(
    `select ${billColumns} from credit_bills
     where ($1::text is null or app_id = $1) and ($2::text is null or user_id = $2) and ($3::text is null or status = $3)
       and ($4::text is null or bill_no = $4) and ($5::date is null or due_date < $5::date)
     order by credit_bills.due_date, bill_no limit $6 offset $7`,
    [filter.appId ?? null, filter.userId ?? null, filter.status ?? null, filter.billNo ?? null, filter.dueBefore ?? null, limit, offset],
  );
  return rows;
}

export interface RepaymentRow {
  repay_no: string;
  app_id: string;
  out_request_no: string;
  user_id: string;
  credit_account_no: string;
  source_account_no: string;
  bill_no: string | null;
  currency: string;
  amount_minor: bigint;
  created_at: Date;
}

export async function findRepayment(client: Queryable, appId: string, outRequestNo: string): Promise<RepaymentRow | undefined> {
  const { rows } = await client.query<RepaymentRow>('select * from credit_repayments where app_id = $1 and out_request_no = $2', [appId, outRequestNo]);
  return rows[0];
}

export async function insertRepayment(
  client: Queryable, row: Omit<RepaymentRow, 'repay_no' | 'created_at'>,
): Promise<RepaymentRow> {
  const { rows } = await client.query<RepaymentRow>(
    `insert into credit_repayments (app_id, out_request_no, user_id, credit_account_no, source_account_no, bill_no, currency, amount_minor)
     values ($1, $2, $3, $4, $5, $6, $7, $8) returning *`,
    [row.app_id, row.out_request_no, row.user_id, row.credit_account_no, row.source_account_no, row.bill_no, row.currency, row.amount_minor],
  );
  return rows[0]!;
}

export async function insertRepaymentItem(client: Queryable, repayNo: string, billNo: string, amountMinor: bigint): Promise<void> {
  await client.query('insert into credit_repayment_items (repay_no, bill_no, amount_minor) values ($1, $2, $3)', [repayNo, billNo, amountMinor]);
}

export async function listRepaymentItems(client: Queryable, repayNo: string): Promise<{ bill_no: string; amount_minor: bigint }[]> {
  const { rows } = await client.query<{ bill_no: string; amount_minor: bigint }>('select bill_no, amount_minor from credit_repayment_items where repay_no = $1 order by bill_no', [repayNo]);
  return rows;
}

/** What a user owes in a currency over all bills. */
export async function owedTotal(client: Queryable, userId: string, currency: string): Promise<bigint> {
  const { rows } = await client.query<{ owed: bigint }>(
    "select coalesce(sum(amount_minor - repaid_minor - refunded_minor), 0)::bigint as owed from credit_bills where user_id = $1 and currency = $2 and status <> 'PAID'",
    [userId, currency],
  );
  return rows[0]!.owed;
}
