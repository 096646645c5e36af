-- Up Migration

-- Pay passwords (支付密码): a slow hash (scrypt) with its own salt and cost parameters, so the cost can be
-- raised for new hashes without breaking old ones. failed_count counts wrong tries since the last good one;
-- a try is counted before the hash is compared, in one guarded UPDATE, so parallel guesses cannot share one.
create table pay_passwords (
  user_id text primary key references users,
  hash text not null,
  salt text not null,
  params jsonb not null,
  failed_count int not null default 0 check (failed_count >= 0),
  locked_until timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Password-free payments (小额免密): what a user enabled per currency, under the app's maxima.
create table nopassword_settings (
  user_id text not null references users,
  currency text not null,
  single_limit_minor bigint not null check (single_limit_minor > 0),
  updated_at timestamptz not null default now(),
  primary key (user_id, currency)
);

-- The app's maxima for password-free payments: per payment, and per user per business day. No row: none allowed.
create table app_nopassword_limits (
  app_id text not null references apps,
  currency text not null,
  max_single_minor bigint not null check (max_single_minor >= 0),
  max_daily_minor bigint not null check (max_daily_minor >= 0),
  updated_at timestamptz not null default now(),
  primary key (app_id, currency)
);

-- What a user paid without a password per business day (TONGBAO_TIMEZONE); checked against the daily cap
-- in the same guarded statement that adds to it.
create table nopassword_usage (
  user_id text not null references users,
  currency text not null,
  business_date date not null,
  used_minor bigint not null check (used_minor >= 0),
  primary key (user_id, currency, business_date)
);

-- A payment through a local channel (balance, coin, credit): which account paid the attempt and how much of
-- it, so a refund goes back to the same account at the same coin rule.
create table local_payments (
  attempt_no text primary key references pay_attempts,
  trade_no text not null references trades,
  channel text not null check (channel in ('balance', 'coin', 'credit')),
  user_id text not null references users,
  account_no text not null references user_accounts,
  -- what left the account: minor units of its currency, or coins
  units bigint not null check (units > 0),
  coins_per_unit bigint check (coins_per_unit > 0),
  authorized_by text not null check (authorized_by in ('PASSWORD', 'NO_PASSWORD')),
  created_at timestamptz not null default now(),
  check ((channel = 'coin') = (coins_per_unit is not null))
);
create index local_payments_trade on local_payments (trade_no);

-- Credit bills (账单): one per credit payment. What is still owed is amount - repaid - refunded.
create table credit_bills (
  bill_no text primary key default next_business_no(),
  app_id text not null references apps,
  user_id text not null references users,
  account_no text not null references user_accounts,
  trade_no text not null unique references trades,
  currency text not null,
  amount_minor bigint not null check (amount_minor > 0),
  repaid_minor bigint not null default 0 check (repaid_minor >= 0),
  refunded_minor bigint not null default 0 check (refunded_minor >= 0),
  statement_date date not null,
  due_date date not null check (due_date >= statement_date),
  status text not null check (status in ('OPEN', 'OVERDUE', 'PAID')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  paid_at timestamptz,
  check (repaid_minor + refunded_minor <= amount_minor),
  check ((status = 'PAID') = (repaid_minor + refunded_minor = amount_minor))
);
create index credit_bills_user on credit_bills (user_id, status, due_date);
create index credit_bills_due on credit_bills (due_date) where status = 'OPEN';

-- Repayments (还款) of credit bills from the user's wallet, idempotent on (app_id, out_request_no).
create table credit_repayments (
  repay_no text primary key default next_business_no(),
  app_id text not null references apps,
  out_request_no text not null,
  user_id text not null references users,
  credit_account_no text not null references user_accounts,
  source_account_no text not null references user_accounts,
  -- the bill asked for; null: the oldest bills first
  bill_no text references credit_bills,
  currency text not null,
  amount_minor bigint not null check (amount_minor > 0),
  created_at timestamptz not null default now(),
  unique (app_id, out_request_no)
);

create table credit_repayment_items (
  repay_no text not null references credit_repayments,
  bill_no text not null references credit_bills,
  amount_minor bigint not null check (amount_minor > 0),
  primary key (repay_no, bill_no)
);
create index credit_repayment_items_bill on credit_repayment_items (bill_no);

-- Down Migration
drop table credit_repayment_items, credit_repayments, credit_bills, local_payments, nopassword_usage,
  app_nopassword_limits, nopassword_settings, pay_passwords;
