-- Up Migration

-- Business numbers (trade_no, refund_no, attempt_no) are the date (Beijing time, whatever the gateway
-- zone) plus a global sequence: unique across processes without coordination. Each process caches a block
-- of sequence values, so numbers are ordered by day but not strictly by creation time within a day.
create sequence business_no_seq cache 100;
create function next_business_no() returns text language sql volatile as $$
  select to_char(now() at time zone 'Asia/Shanghai', 'YYYYMMDD') || lpad(nextval('business_no_seq')::text, 16, '0')
$$;

create table settings (
  key text primary key,
  value text not null,
  updated_at timestamptz not null default now()
);

-- The platform's own response/notification signing keys; the private key is sealed by the master key.
create table platform_keys (
  key_id serial primary key,
  sign_type text not null check (sign_type = 'RSA2'),
  public_key_pem text not null,
  private_key_sealed text not null,
  active boolean not null default true,
  created_at timestamptz not null default now()
);
create unique index platform_keys_one_active on platform_keys ((true)) where active;

create table merchants (
  merchant_id text primary key,
  name text not null check (length(name) between 1 and 128),
  status text not null default 'NORMAL' check (status in ('NORMAL', 'FROZEN')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table apps (
  app_id text primary key,
  merchant_id text not null references merchants,
  name text not null check (length(name) between 1 and 128),
  sign_type text not null check (sign_type in ('RSA2', 'HMAC-SHA256')),
  public_key_pem text,
  secret_sealed text,
  notify_url text,
  -- null means every method is allowed / every IP is allowed
  allowed_methods text[],
  ip_allowlist cidr[],
  max_amount_minor bigint not null default 100000000 check (max_amount_minor > 0),
  status text not null default 'NORMAL' check (status in ('NORMAL', 'FROZEN')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check ((sign_type = 'RSA2' and public_key_pem is not null) or (sign_type = 'HMAC-SHA256' and secret_sealed is not null))
);
create index apps_merchant on apps (merchant_id);

create table trades (
  trade_no text primary key,
  app_id text not null references apps,
  merchant_id text not null references merchants,
  out_trade_no text not null,
  status text not null check (status in ('WAIT_BUYER_PAY', 'TRADE_SUCCESS', 'TRADE_FINISHED', 'TRADE_CLOSED')),
  currency text not null,
  total_amount_minor bigint not null check (total_amount_minor > 0),
  paid_amount_minor bigint not null default 0 check (paid_amount_minor >= 0),
  -- refunds in flight or done: reserved before the channel is called, so parallel refunds cannot overshoot
  refund_reserved_minor bigint not null default 0,
  refunded_amount_minor bigint not null default 0,
  subject text not null,
  body text,
  notify_url text,
  passback_params text,
  channel text,
  channel_trade_no text,
  paid_attempt_no text,
  expires_at timestamptz not null,
  paid_at timestamptz,
  closed_at timestamptz,
  close_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (app_id, out_trade_no),
  check (refund_reserved_minor between 0 and paid_amount_minor),
  check (refunded_amount_minor between 0 and refund_reserved_minor)
);
create index trades_created on trades (created_at);
create index trades_waiting_expiry on trades (expires_at) where status = 'WAIT_BUYER_PAY';

-- One row per try at the channel. The attempt is written before the channel is called.
create table pay_attempts (
  attempt_no text primary key,
  trade_no text not null references trades,
  channel text not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  status text not null check (status in ('PROCESSING', 'SUCCEEDED', 'FAILED')),
  channel_trade_no text,
  failure_code text,
  failure_message text,
  query_count int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);
create index pay_attempts_trade on pay_attempts (trade_no);
-- The in-progress marker: at most one attempt of a trade may be at the channel at a time.
create unique index pay_attempts_one_in_flight on pay_attempts (trade_no) where status = 'PROCESSING';

create table refunds (
  refund_no text primary key,
  trade_no text not null references trades,
  app_id text not null references apps,
  out_request_no text not null,
  -- MERCHANT: asked through the gateway; REVERSAL: Tongbao returns money it should not keep (late success)
  kind text not null default 'MERCHANT' check (kind in ('MERCHANT', 'REVERSAL')),
  attempt_no text not null references pay_attempts,
  channel text not null,
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  reason text,
  status text not null check (status in ('REFUND_PROCESSING', 'REFUND_SUCCESS', 'REFUND_FAILED')),
  channel_refund_no text,
  failure_code text,
  failure_message text,
  query_count int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  succeeded_at timestamptz,
  unique (trade_no, out_request_no)
);

-- Money Tongbao holds that it must not keep, or state that disagrees with a channel: for operators.
create table discrepancies (
  discrepancy_id bigserial primary key,
  kind text not null,
  trade_no text references trades,
  -- the pay attempt or refund the discrepancy is about
  record_no text not null,
  amount_minor bigint,
  currency text,
  detail text not null,
  status text not null default 'OPEN' check (status in ('OPEN', 'RESOLVED')),
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  unique (kind, record_no)
);

-- Channel configuration and credentials (sealed by the master key), changeable without restart.
create table channel_configs (
  channel text primary key,
  enabled boolean not null default true,
  config_sealed text not null,
  updated_at timestamptz not null default now()
);

-- Double-entry ledger. Balances are kept in shards: a hot account (channel clearing, platform) is
-- split into several rows so concurrent postings do not queue on one row lock; the balance is the sum.
create table ledger_accounts (
  account_id bigserial primary key,
  code text not null unique,
  kind text not null,
  owner_type text not null check (owner_type in ('PLATFORM', 'MERCHANT', 'CHANNEL', 'USER')),
  owner_id text not null,
  currency text not null,
  normal_side text not null check (normal_side in ('DEBIT', 'CREDIT')),
  shard_count int not null default 1 check (shard_count between 1 and 64),
  status text not null default 'NORMAL' check (status in ('NORMAL', 'FROZEN', 'BLACKLISTED')),
  created_at timestamptz not null default now()
);

create table ledger_balances (
  account_id bigint not null references ledger_accounts,
  shard int not null check (shard >= 0),
  -- signed on the account's normal side: debits minus credits for DEBIT accounts, the reverse for CREDIT
  balance_minor bigint not null default 0,
  updated_at timestamptz not null default now(),
  primary key (account_id, shard)
);

create table journal_transactions (
  transaction_id bigserial primary key,
  kind text not null,
  -- one posting per (kind, reference): a retried posting is a no-op, never a second movement
  reference text not null,
  currency text not null,
  description text,
  created_at timestamptz not null default now(),
  unique (kind, reference)
);

create table journal_entries (
  entry_id bigserial primary key,
  transaction_id bigint not null references journal_transactions,
  account_id bigint not null references ledger_accounts,
  side text not null check (side in ('DEBIT', 'CREDIT')),
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  created_at timestamptz not null default now()
);
create index journal_entries_transaction on journal_entries (transaction_id);
create index journal_entries_account on journal_entries (account_id, entry_id);

-- The database refuses to commit an unbalanced journal transaction, whatever the code above it does.
create function assert_journal_balanced() returns trigger language plpgsql as $$
declare
  difference bigint;
begin
  select coalesce(sum(case side when 'DEBIT' then amount_minor else -amount_minor end), 0)
    into difference from journal_entries where transaction_id = new.transaction_id;
  if difference <> 0 then
    raise exception 'journal transaction % is unbalanced by %', new.transaction_id, difference using errcode = '23514';
  end if;
  return null;
end $$;
create constraint trigger journal_entries_balanced after insert on journal_entries
  deferrable initially deferred for each row execute function assert_journal_balanced();


-- Posts one journal transaction in one round trip: the header (a no-op returning null when
-- (kind, reference) was already posted), its entries, and the balance shards, updated in
-- (account_id, shard) order so concurrent postings never deadlock.
create function post_journal(
  p_kind text, p_reference text, p_currency text, p_description text,
  p_account_ids bigint[], p_sides text[], p_amounts bigint[], p_shards int[]
) returns bigint language plpgsql as $$
declare
  new_id bigint;
  target record;
begin
  insert into journal_transactions (kind, reference, currency, description)
    values (p_kind, p_reference, p_currency, p_description)
    on conflict (kind, reference) do nothing
    returning transaction_id into new_id;
  if new_id is null then
    return null;
  end if;
  insert into journal_entries (transaction_id, account_id, side, amount_minor, currency)
    select new_id, e.account_id, e.side, e.amount, p_currency
    from unnest(p_account_ids, p_sides, p_amounts) as e(account_id, side, amount);
  for target in
    select e.account_id, e.shard,
           sum(case when e.side = a.normal_side then e.amount else -e.amount end) as delta
    from unnest(p_account_ids, p_sides, p_amounts, p_shards) as e(account_id, side, amount, shard)
    join ledger_accounts a on a.account_id = e.account_id
    group by e.account_id, e.shard
    order by e.account_id, e.shard
  loop
    update ledger_balances set balance_minor = balance_minor + target.delta, updated_at = now()
      where account_id = target.account_id and shard = target.shard;
    if not found then
      raise exception 'no balance shard % for account %', target.shard, target.account_id;
    end if;
  end loop;
  return new_id;
end $$;

-- Every state change of an order, refund or account, written in the same transaction (the outbox).
create table events (
  event_id bigserial primary key,
  aggregate_type text not null,
  aggregate_id text not null,
  event_type text not null,
  payload jsonb not null,
  created_at timestamptz not null default now()
);
create index events_aggregate on events (aggregate_type, aggregate_id, event_id);

create table notifications (
  notify_id text primary key,
  app_id text not null references apps,
  notify_type text not null check (notify_type in ('trade_status_sync', 'refund_status_sync')),
  trade_no text references trades,
  refund_no text references refunds,
  url text not null,
  -- the business fields, exactly as sent; notify_time, sign_type and sign are added at each attempt
  params jsonb not null,
  status text not null default 'PENDING' check (status in ('PENDING', 'SUCCESS', 'EXPIRED')),
  attempt_count int not null default 0,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  succeeded_at timestamptz,
  created_at timestamptz not null default now()
);
create index notifications_trade on notifications (trade_no);
create index notifications_status on notifications (status, created_at);

create table notification_attempts (
  attempt_id bigserial primary key,
  notify_id text not null references notifications,
  attempt_number int not null,
  attempted_at timestamptz not null default now(),
  http_status int,
  latency_ms int not null,
  response_excerpt text,
  error text,
  unique (notify_id, attempt_number)
);

-- Down Migration
drop table notification_attempts, notifications, events, journal_entries, journal_transactions,
  ledger_balances, ledger_accounts, channel_configs, discrepancies, refunds, pay_attempts, trades, apps,
  merchants, platform_keys, settings cascade;
drop function post_journal, assert_journal_balanced, next_business_no;
drop sequence business_no_seq;
