-- QuickBooks Online (crate `qbo-sync`): connections per client company (realm) with tokens sealed at
-- rest, single-use OAuth states, a mirror of the twelve entity kinds, per-entity sync state,
-- sync-run history and webhook events. Every table but `qbo_realm_routes` is tenant-owned
-- (forced RLS through enable_tenancy).

-- One client's QuickBooks company. Tokens are one sealed JSON document (vault AES-256-GCM, the
-- associated data binding it to organization and connection); `token_key_id` is the key that
-- sealed it, so a rotation can find rows still sealed with a retired key.
create table qbo_connections (
    id                        uuid primary key,
    organization_id           uuid not null references organizations (id) on delete cascade,
    client_id                 uuid not null references clients (id) on delete cascade,
    realm_id                  text not null check (realm_id ~ '^[0-9]{1,32}$'),
    status                    text not null
                              check (status in ('connected', 'reconnect_needed', 'disconnected')),
    status_reason             text check (length(status_reason) <= 1000),
    company_name              text check (length(company_name) <= 300),
    tokens_sealed             bytea,
    token_key_id              integer,
    access_expires_at         timestamptz,
    refresh_expires_at        timestamptz,
    refresh_hard_expires_at   timestamptz,
    refreshed_at              timestamptz,
    connected_by              uuid references users (id) on delete set null,
    connected_at              timestamptz not null default now(),
    disconnected_at           timestamptz,
    last_full_sync_at         timestamptz,
    last_incremental_sync_at  timestamptz,
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now(),
    unique (organization_id, client_id, realm_id),
    check (status = 'disconnected' or tokens_sealed is not null)
);
select enable_tenancy('qbo_connections');
create trigger qbo_connections_updated_at before update on qbo_connections
    for each row execute function set_updated_at();
-- One live connection per client, and a realm feeds one client of a firm.
create unique index qbo_connections_live_client on qbo_connections (organization_id, client_id)
    where status <> 'disconnected';
create unique index qbo_connections_live_realm on qbo_connections (organization_id, realm_id)
    where status <> 'disconnected';

-- Realm → (organization, connection) for the live connections: what webhooks (which name only a
-- realm) and the hourly scheduler read before any tenant is known. Like organization_directory it
-- holds no tenant data beyond the realm id, so it has no row-level security; the connection
-- itself is read in the tenant's transaction afterwards.
create table qbo_realm_routes (
    realm_id         text not null check (realm_id ~ '^[0-9]{1,32}$'),
    organization_id  uuid not null references organizations (id) on delete cascade,
    connection_id    uuid not null unique,
    primary key (realm_id, organization_id)
);
grant select, insert, update, delete on qbo_realm_routes to countinghouse_app;

-- OAuth `state`s: only a SHA-256 of the random value is stored; single use (`used_at`), expiring,
-- bound to the user who asked and the client being connected.
create table qbo_oauth_states (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    client_id        uuid not null references clients (id) on delete cascade,
    user_id          uuid not null references users (id) on delete cascade,
    state_hash       bytea not null unique,
    created_at       timestamptz not null default now(),
    expires_at       timestamptz not null,
    used_at          timestamptz
);
select enable_tenancy('qbo_oauth_states');
create index qbo_oauth_states_expiry on qbo_oauth_states (organization_id, expires_at);

-- The mirror: one row per QuickBooks entity, all kinds in one table. Every kind shares the header
-- (id, SyncToken, MetaData times, Active) and the raw JSON, and the read models need only a few
-- typed columns (names, emails, dates, amounts, the customer or vendor referenced), so one upsert
-- path serves all twelve kinds and the summaries scan one table by (organization, realm, entity).
create table qbo_entities (
    organization_id   uuid not null references organizations (id) on delete cascade,
    realm_id          text not null,
    entity            text not null check (entity in ('CompanyInfo', 'Account', 'Customer', 'Vendor',
                          'Item', 'Invoice', 'Bill', 'Payment', 'BillPayment', 'JournalEntry',
                          'Purchase', 'Deposit')),
    qbo_id            text not null check (length(qbo_id) between 1 and 64),
    connection_id     uuid not null references qbo_connections (id) on delete cascade,
    sync_token        bigint not null,
    created_time      timestamptz,
    last_updated_time timestamptz,
    active            boolean,
    display_name      text,
    email             citext,
    -- Account type and classification (Asset, Liability, Equity, Revenue, Expense) for accounts.
    account_type      text,
    classification    text,
    -- The customer (invoices, payments) or vendor (bills, bill payments, purchases) referenced.
    party_ref         text,
    txn_date          date,
    due_date          date,
    total_amount      numeric(18, 2),
    balance           numeric(18, 2),
    -- Our client this QuickBooks customer is linked to (customers only).
    linked_client_id  uuid references clients (id) on delete set null,
    -- The last full sync run that read this row: after a kind is read to the end, its rows not
    -- seen by the run are gone from QuickBooks (deleted beyond CDC's reach) and are removed.
    seen_run          uuid,
    raw               jsonb not null,
    synced_at         timestamptz not null default now(),
    primary key (organization_id, realm_id, entity, qbo_id)
);
select enable_tenancy('qbo_entities');
create index qbo_entities_txn on qbo_entities (organization_id, connection_id, entity, txn_date)
    where txn_date is not null;

-- Transaction lines (invoices, bills, payments, journal entries, purchases, deposits, bill
-- payments), replaced whole whenever their transaction changes.
create table qbo_lines (
    organization_id  uuid not null references organizations (id) on delete cascade,
    realm_id         text not null,
    entity           text not null,
    qbo_id           text not null,
    line_index       integer not null,
    line_id          text,
    detail_type      text,
    description      text,
    amount           numeric(18, 2),
    item_ref         text,
    account_ref      text,
    posting_type     text,
    primary key (organization_id, realm_id, entity, qbo_id, line_index),
    foreign key (organization_id, realm_id, entity, qbo_id)
        references qbo_entities (organization_id, realm_id, entity, qbo_id) on delete cascade
);
select enable_tenancy('qbo_lines');

-- Where each kind's sync stands for a connection. `full_position` is the next STARTPOSITION of a
-- full read in progress (NULL: no full read pending for this kind); `pending_watermark` is the
-- server time of that read's first page, which becomes `watermark` (the next CDC changedSince)
-- once the kind is read to the end. Written in the same transaction as the page it follows.
create table qbo_sync_state (
    organization_id    uuid not null references organizations (id) on delete cascade,
    connection_id      uuid not null references qbo_connections (id) on delete cascade,
    entity             text not null,
    full_position      bigint check (full_position >= 1),
    pending_watermark  timestamptz,
    watermark          timestamptz,
    full_completed_at  timestamptz,
    updated_at         timestamptz not null default now(),
    primary key (organization_id, connection_id, entity)
);
select enable_tenancy('qbo_sync_state');

-- Sync history: per-entity counts ({"Invoice": {"upserted": n, "deleted": n, "unchanged": n}}),
-- API calls used, errors, and progress while running ({"Invoice": {"position": n, "done": b}}).
create table qbo_sync_runs (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    connection_id    uuid not null references qbo_connections (id) on delete cascade,
    mode             text not null check (mode in ('full', 'incremental')),
    trigger          text not null check (trigger in ('manual', 'schedule', 'webhook', 'connect')),
    status           text not null check (status in ('queued', 'running', 'succeeded', 'failed')),
    job_id           bigint,
    attempts         integer not null default 0,
    api_calls        bigint not null default 0,
    counts           jsonb not null default '{}',
    progress         jsonb not null default '{}',
    errors           jsonb not null default '[]',
    queued_at        timestamptz not null default now(),
    started_at       timestamptz,
    finished_at      timestamptz
);
select enable_tenancy('qbo_sync_runs');
create index qbo_sync_runs_list on qbo_sync_runs (organization_id, connection_id, queued_at desc, id);

-- Verified webhook deliveries, one row per (delivery, organization the realm belongs to).
create table qbo_webhook_events (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    connection_id    uuid not null references qbo_connections (id) on delete cascade,
    realm_id         text not null,
    received_at      timestamptz not null default now(),
    entities         jsonb not null,
    sync_run_id      uuid references qbo_sync_runs (id) on delete set null
);
select enable_tenancy('qbo_webhook_events');
