-- Up Migration

-- Users (用户): the payers of an app's business. user_id is Tongbao's number, out_user_id the app's own id.
-- Real-name fields (实名) are sealed with the master key like app secrets; the masked forms are for display.
create table users (
  user_id text primary key,
  app_id text not null references apps,
  out_user_id text not null check (length(out_user_id) between 1 and 64),
  -- the status new accounts of the user start with; a status change of the user applies to all its accounts
  status text not null default 'NORMAL' check (status in ('NORMAL', 'FROZEN', 'BLACKLISTED')),
  real_name_sealed text,
  real_name_masked text,
  id_type text check (id_type in ('ID_CARD', 'PASSPORT', 'HK_MACAO_PERMIT', 'TAIWAN_PERMIT')),
  id_number_sealed text,
  id_number_masked text,
  -- set when an operator verified the real-name information; withdrawals require it
  verified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (app_id, out_user_id),
  check ((real_name_sealed is null) = (id_number_sealed is null) and (id_number_sealed is null) = (id_type is null)),
  check (verified_at is null or real_name_sealed is not null)
);

-- Merchants withdraw their settlement balance only once their real name (company or person) is verified.
alter table merchants
  add column real_name_sealed text,
  add column real_name_masked text,
  add column id_type text check (id_type in ('ID_CARD', 'PASSPORT', 'HK_MACAO_PERMIT', 'TAIWAN_PERMIT', 'BUSINESS_LICENSE')),
  add column id_number_sealed text,
  add column id_number_masked text,
  add column verified_at timestamptz,
  add constraint merchants_real_name_complete check (
    (real_name_sealed is null) = (id_number_sealed is null) and (id_number_sealed is null) = (id_type is null)
    and (verified_at is null or real_name_sealed is not null));

-- Virtual coins (虚币) an app defines: coins_per_unit coins for one major unit of currency (10 per CNY 1.00).
-- Coins are their own ledger currency, 'C:<app_id>:<code>', counted in whole coins.
create table coin_units (
  app_id text not null references apps,
  code text not null check (code ~ '^[A-Z][A-Z0-9_]{0,15}$'),
  name text not null check (length(name) between 1 and 64),
  currency text not null,
  coins_per_unit bigint not null check (coins_per_unit between 1 and 1000000),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (app_id, code)
);

-- A user's accounts. Each is two ledger accounts: available and frozen; the available one carries the
-- account's status (ledger_accounts.status) and both are bounded at zero (ledger_accounts.min_balance_minor).
-- A CREDIT account's available balance is what remains of its limit; a third ledger account holds the line.
create table user_accounts (
  account_no text primary key,
  user_id text not null references users,
  app_id text not null references apps,
  type text not null check (type in ('WALLET', 'COIN', 'CREDIT')),
  -- the ledger currency: an ISO 4217 code, or C:<app_id>:<unit> for coins
  currency text not null,
  coin_unit text,
  available_account_id bigint not null unique references ledger_accounts,
  frozen_account_id bigint not null unique references ledger_accounts,
  credit_limit_minor bigint check (credit_limit_minor >= 0),
  created_at timestamptz not null default now(),
  unique (user_id, type, currency),
  foreign key (app_id, coin_unit) references coin_units (app_id, code),
  check ((type = 'COIN') = (coin_unit is not null)),
  check ((type = 'CREDIT') = (credit_limit_minor is not null))
);
create index user_accounts_app on user_accounts (app_id, user_id);

-- Coins and apps own ledger accounts too.
alter table ledger_accounts drop constraint ledger_accounts_owner_type_check;
alter table ledger_accounts add constraint ledger_accounts_owner_type_check
  check (owner_type in ('PLATFORM', 'MERCHANT', 'CHANNEL', 'USER', 'APP'));

-- The database's own guarantee that a bounded account (every user account, a merchant's withdrawal hold)
-- never goes below its minimum, whatever the code above does. Only single-row accounts can be bounded:
-- the check reads the balance row post_journal just updated.
alter table ledger_accounts add column min_balance_minor bigint;
alter table ledger_accounts add constraint ledger_accounts_bounded_single_shard check (min_balance_minor is null or shard_count = 1);

-- post_journal, now enforcing per account: the minimum balance (TB001), FROZEN refuses decreases (TB002),
-- BLACKLISTED refuses any change (TB003). p_completion is for postings that finish an operation accepted
-- while the account allowed it (a failed withdrawal's hold going back): the money is owed to the account
-- already, so status does not stop it; the minimum still does. The codes are mapped to business errors in
-- src/ledger/index.ts.
drop function post_journal(text, text, text, text, bigint[], text[], bigint[], int[]);
create function post_journal(
  p_kind text, p_reference text, p_currency text, p_description text,
  p_account_ids bigint[], p_sides text[], p_amounts bigint[], p_shards int[], p_completion boolean default false
) returns bigint language plpgsql as $$
declare
  new_id bigint;
  target record;
  new_balance bigint;
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
    select e.account_id, e.shard, a.code, a.kind, a.status, a.min_balance_minor,
           sum(case when e.side = a.normal_side then e.amount else -e.amount end) as delta
    from unnest(p_account_ids, p_sides, p_amounts, p_shards) as e(account_id, side, amount, shard)
    join ledger_accounts a on a.account_id = e.account_id
    group by e.account_id, e.shard, a.code, a.kind, a.status, a.min_balance_minor
    order by e.account_id, e.shard
  loop
    if not p_completion and target.delta <> 0 then
      if target.status = 'BLACKLISTED' then
        raise exception 'account % is blacklisted', target.code using errcode = 'TB003', detail = target.kind;
      end if;
      if target.status = 'FROZEN' and target.delta < 0 then
        raise exception 'account % is frozen', target.code using errcode = 'TB002', detail = target.kind;
      end if;
    end if;
    update ledger_balances set balance_minor = balance_minor + target.delta, updated_at = now()
      where account_id = target.account_id and shard = target.shard
      returning balance_minor into new_balance;
    if not found then
      raise exception 'no balance shard % for account %', target.shard, target.account_id;
    end if;
    if target.min_balance_minor is not null and target.delta < 0 and new_balance < target.min_balance_minor then
      raise exception 'account % would fall to % (minimum %)', target.code, new_balance, target.min_balance_minor
        using errcode = 'TB001', detail = target.kind;
    end if;
  end loop;
  return new_id;
end $$;

-- Operator actions on accounts (status changes, amount freezes and their release), with their reasons.
create table account_audit (
  audit_id bigserial primary key,
  -- USER: a user's status or real name; ACCOUNT: one user account; MERCHANT: a merchant's real name
  subject_type text not null check (subject_type in ('USER', 'ACCOUNT', 'MERCHANT')),
  subject_id text not null,
  action text not null,
  reason text not null check (length(reason) between 1 and 256),
  detail jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index account_audit_subject on account_audit (subject_type, subject_id, audit_id);

-- Down Migration
drop table account_audit;
drop function post_journal(text, text, text, text, bigint[], text[], bigint[], int[], boolean);
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
alter table ledger_accounts drop constraint ledger_accounts_bounded_single_shard, drop column min_balance_minor;
alter table ledger_accounts drop constraint ledger_accounts_owner_type_check;
alter table ledger_accounts add constraint ledger_accounts_owner_type_check
  check (owner_type in ('PLATFORM', 'MERCHANT', 'CHANNEL', 'USER'));
drop table user_accounts, coin_units;
alter table merchants drop constraint merchants_real_name_complete,
  drop column verified_at, drop column id_number_masked, drop column id_number_sealed, drop column id_type,
  drop column real_name_masked, drop column real_name_sealed;
drop table users;
