-- Up Migration

-- Escrow trades (担保交易), their settlements (结算/分账) and profit-sharing splits (分润).

-- How long an escrow payment waits for the buyer's confirmation before it settles by itself. Null means
-- the platform default (TONGBAO_ESCROW_CONFIRM_SECONDS), read when the trade is paid.
alter table merchants add column escrow_confirm_seconds int check (escrow_confirm_seconds between 1 and 31622400);

alter table trades
  add column trade_type text not null default 'INSTANT' check (trade_type in ('INSTANT', 'ESCROW')),
  -- the part of the payment held in the platform escrow account; the rest goes to the merchant at once
  add column escrow_amount_minor bigint not null default 0,
  -- escrow moved out by settlements (to the merchant and the settlement's split receivers)
  add column settled_amount_minor bigint not null default 0,
  -- escrow taken by refunds in flight or done: reserved before the channel is called, like
  -- refund_reserved_minor, so a settlement and a refund can never both use the same money
  add column escrow_refund_reserved_minor bigint not null default 0,
  add column escrow_refunded_minor bigint not null default 0,
  -- the sum of the payment's profit-sharing splits (instant trades); 0 without splits
  add column royalty_amount_minor bigint not null default 0,
  -- when the escrow settles by itself unless settled or confirmed before (set at payment)
  add column escrow_settle_by timestamptz,
  add column buyer_confirmed_at timestamptz,
  -- paid, and no escrowed money is left to settle: the condition for TRADE_FINISHED besides the refund
  -- window (an instant trade is settled as soon as it is paid)
  add column fully_settled boolean generated always as
    (paid_amount_minor > 0 and settled_amount_minor + escrow_refunded_minor = escrow_amount_minor) stored,
  add constraint trades_escrow_amount check (
    case trade_type when 'ESCROW' then escrow_amount_minor between 1 and total_amount_minor else escrow_amount_minor = 0 end),
  add constraint trades_escrow_not_overdrawn check (
    settled_amount_minor >= 0
    and escrow_refunded_minor between 0 and escrow_refund_reserved_minor
    and escrow_refund_reserved_minor <= refund_reserved_minor
    and settled_amount_minor + escrow_refund_reserved_minor <= escrow_amount_minor),
  add constraint trades_royalty_amount check (
    royalty_amount_minor between 0 and total_amount_minor and (royalty_amount_minor = 0 or trade_type = 'INSTANT'));

-- The sweep's safety net looks for paid escrow trades with money still to settle.
create index trades_escrow_unsettled on trades (escrow_settle_by)
  where trade_type = 'ESCROW' and status = 'TRADE_SUCCESS' and settled_amount_minor + escrow_refund_reserved_minor < escrow_amount_minor;

-- The part of a refund taken back out of escrow; the rest comes out of the merchant's account.
alter table refunds add column from_escrow_minor bigint not null default 0;
alter table refunds add constraint refunds_from_escrow check (from_escrow_minor between 0 and amount_minor);

-- One row per settlement of an escrow trade. A settlement is a transfer inside Tongbao's books, so it
-- succeeds in the transaction that creates it; the status exists for the protocol and for payouts to come.
create table settlements (
  settle_no text primary key,
  trade_no text not null references trades,
  app_id text not null references apps,
  -- MERCHANT: tongbao.trade.settle; CONFIRM: the buyer's confirmation; AUTO: the confirm period ran out
  source text not null check (source in ('MERCHANT', 'CONFIRM', 'AUTO')),
  -- the merchant's request number; Tongbao's own settlements use '<source>=<n>', which no merchant can send
  out_request_no text not null,
  -- as asked: null when the merchant asked for all that remained
  requested_amount_minor bigint check (requested_amount_minor > 0),
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  status text not null default 'SETTLE_SUCCESS' check (status = 'SETTLE_SUCCESS'),
  created_at timestamptz not null default now(),
  settled_at timestamptz not null default now(),
  unique (trade_no, out_request_no)
);

-- Profit-sharing splits: of an instant trade's payment (settle_no null) or of one settlement.
create table royalty_splits (
  split_id bigserial primary key,
  trade_no text not null references trades,
  settle_no text references settlements,
  position int not null check (position between 0 and 99),
  receiver_type text not null check (receiver_type in ('MERCHANT', 'PLATFORM')),
  receiver_merchant_id text references merchants,
  amount_minor bigint not null check (amount_minor > 0),
  currency text not null,
  check ((receiver_type = 'MERCHANT') = (receiver_merchant_id is not null)),
  unique nulls not distinct (trade_no, settle_no, position)
);

alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync', 'settle_status_sync'));

-- Down Migration
delete from notification_attempts where notify_id in (select notify_id from notifications where notify_type = 'settle_status_sync');
delete from notifications where notify_type = 'settle_status_sync';
alter table notifications drop constraint notifications_notify_type_check;
alter table notifications add constraint notifications_notify_type_check
  check (notify_type in ('trade_status_sync', 'refund_status_sync', 'preauth_status_sync'));
drop table royalty_splits, settlements;
alter table refunds drop constraint refunds_from_escrow, drop column from_escrow_minor;
drop index trades_escrow_unsettled;
alter table trades
  drop constraint trades_royalty_amount, drop constraint trades_escrow_not_overdrawn, drop constraint trades_escrow_amount,
  drop column fully_settled, drop column buyer_confirmed_at, drop column escrow_settle_by, drop column royalty_amount_minor,
  drop column escrow_refunded_minor, drop column escrow_refund_reserved_minor, drop column settled_amount_minor,
  drop column escrow_amount_minor, drop column trade_type;
alter table merchants drop column escrow_confirm_seconds;
