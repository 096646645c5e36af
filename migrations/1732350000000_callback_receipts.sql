-- Up Migration

-- Channel callbacks already applied, by the replay key their adapter names (a notify_id, a nonce, an event
-- delivery), so that a signed callback is applied once whichever Tongbao process receives it. A key is
-- written only after the callback's outcome was stored, so a callback whose processing failed is accepted
-- when the channel sends it again. Past expires_at the channel's own freshness check refuses the callback
-- anyway, so the row can go: the trade sweep prunes them.
create table callback_receipts (
  channel text not null,
  replay_key text not null,
  expires_at timestamptz not null,
  received_at timestamptz not null default now(),
  primary key (channel, replay_key)
);
create index callback_receipts_expiry on callback_receipts (expires_at);

-- Down Migration
drop table callback_receipts;
