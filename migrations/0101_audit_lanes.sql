-- Audit chain lanes. One chain head per organization serialised every audited transaction of a
-- firm behind the one before it, for as long as that one took to commit (its WAL flush
-- included): completions of a firm's workflow steps queued on it. An organization now has up to
-- eight lanes, each its own hash chain with its own head; a transaction appends to the first
-- lane whose head no other transaction holds (`for update skip locked`), so up to eight commit
-- side by side. Existing entries and heads are lane 0, unchanged: their hashes still verify.
alter table audit_chain_heads add column lane smallint not null default 0 check (lane between 0 and 7);
alter table audit_chain_heads drop constraint audit_chain_heads_pkey;
alter table audit_chain_heads add primary key (organization_id, lane);

alter table audit_log add column lane smallint not null default 0 check (lane between 0 and 7);
alter table audit_log drop constraint audit_log_pkey;
alter table audit_log add primary key (organization_id, lane, seq, occurred_at);

-- The log is read newest first across lanes; `id` (UUIDv7) breaks ties where `seq` no longer can.
drop index audit_log_org_time;
create index audit_log_org_time on audit_log (organization_id, occurred_at desc, id desc);
