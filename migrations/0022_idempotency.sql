-- Idempotency-Key on POST (DESIGN §5): a client that retries a POST after a timeout or a dropped
-- connection gets the first attempt's response, not a second invoice or a second upload.
--
-- One row per (organization, principal, key): claimed as `in_flight` in its own committed
-- transaction before the handler runs, completed with the response afterwards, deleted when the
-- handler fails with a 5xx (the request may then be retried). Rows expire after 24 hours.

create table idempotency_keys (
    organization_id uuid not null references organizations (id) on delete cascade,
    -- The session's user or the API key: two callers never share a key space.
    principal       uuid not null,
    key             text not null,
    -- SHA-256 of method, path and query, content type and body: the same key with another
    -- request is a client bug, answered 422.
    fingerprint     bytea not null,
    state           text not null check (state in ('in_flight', 'done')),
    status          smallint,
    content_type    text,
    location        text,
    body            bytea,
    created_at      timestamptz not null default now(),
    primary key (organization_id, principal, key)
);
create index idempotency_keys_expiry on idempotency_keys (created_at);
select enable_tenancy('idempotency_keys');

-- Expiry runs across tenants (housekeeping has no tenant): a definer function that only deletes
-- rows past their 24 hours.
create function expire_idempotency_keys() returns bigint
language sql security definer set search_path = public, pg_temp
as $$
    with gone as (delete from idempotency_keys where created_at < now() - interval '24 hours' returning 1)
    select count(*) from gone
$$;
revoke all on function expire_idempotency_keys() from public;
grant execute on function expire_idempotency_keys() to countinghouse_app;
