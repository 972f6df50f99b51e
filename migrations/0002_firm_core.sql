-- The firm's everyday work: clients, engagements, invoices (with lines and payments), client
-- portal access and notes. Every table is tenant-owned (forced RLS). Indexes are designed per list
-- and filter of the API and checked with EXPLAIN at seed scale (crates/api/tests/it/plans.rs).

-- Lets GIN indexes lead with organization_id, so searches stay inside one firm.
create extension if not exists btree_gin;

-- Row-level security evaluates a policy before any user condition that is not LEAKPROOF, so a
-- search condition on a forced-RLS table can drive an index only if its operator function is
-- LEAKPROOF. These return a boolean and raise no data-dependent errors: full-text match (@@),
-- trigram similarity (%), array overlap (&&, tag filters). Only a superuser may mark them; where
-- migrations run as a lesser owner, searches still work, by scanning the firm's rows instead.
do $$
begin
    if (select rolsuper from pg_roles where rolname = current_user) then
        alter function pg_catalog.ts_match_vq(tsvector, tsquery) leakproof;
        alter function similarity_op(text, text) leakproof;
        alter function pg_catalog.arrayoverlap(anyarray, anyarray) leakproof;
    else
        raise notice 'not a superuser: search and tag filters will not use their indexes (see migration 0002)';
    end if;
end $$;

create table clients (
    id                     uuid primary key,
    organization_id        uuid not null references organizations (id) on delete cascade,
    business_name          text not null check (length(business_name) between 1 and 300),
    legal_name             text check (length(legal_name) <= 300),
    -- The tax id is sealed (AES-256-GCM, bound to org and client); `tax_id_index` is a keyed hash
    -- (HMAC) of its digits for exact-match search; `tax_id_last4` is what most roles see.
    tax_id_kind            text check (tax_id_kind in ('ein', 'ssn')),
    tax_id_sealed          bytea,
    tax_id_index           bytea,
    tax_id_last4           text check (tax_id_last4 ~ '^[0-9]{4}$'),
    primary_contact_name   text check (length(primary_contact_name) <= 200),
    primary_contact_email  citext check (length(primary_contact_email) <= 254),
    primary_contact_phone  text check (length(primary_contact_phone) <= 40),
    business_type          text check (business_type in ('individual', 'sole_proprietorship', 'llc',
                               'partnership', 'corporation', 's_corporation', 'nonprofit', 'trust')),
    industry               text check (length(industry) <= 100),
    website                text check (length(website) <= 300),
    status                 text not null default 'active'
                               check (status in ('prospect', 'active', 'inactive', 'archived')),
    -- The status to return to on restore.
    archived_from          text check (archived_from in ('prospect', 'active', 'inactive')),
    risk_level             text not null default 'low' check (risk_level in ('low', 'medium', 'high')),
    annual_revenue         numeric(16, 2) check (annual_revenue >= 0),
    assigned_to            uuid references users (id) on delete set null,
    tags                   text[] not null default '{}',
    business_address       text check (length(business_address) <= 500),
    quickbooks_customer_id text,
    created_by             uuid,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    deleted_at             timestamptz,
    -- The name for prefix search: compared with byte-order (text_pattern) operators, which are
    -- leakproof, where lower() in a condition is not.
    name_key               text generated always as (lower(business_name)) stored,
    search                 tsvector generated always as (
        setweight(to_tsvector('simple', coalesce(business_name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(legal_name, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(primary_contact_name, '')), 'B') ||
        setweight(to_tsvector('simple', replace(coalesce(primary_contact_email::text, ''), '@', ' ')), 'B')
    ) stored,
    check (tax_id_sealed is null or (tax_id_kind is not null and tax_id_index is not null and tax_id_last4 is not null))
);
select enable_tenancy('clients');
create trigger clients_updated_at before update on clients for each row execute function set_updated_at();
-- List pages: one index per sort, live rows only, the id as the keyset tie-breaker.
create index clients_list_name on clients (organization_id, business_name, id) where deleted_at is null;
create index clients_list_created on clients (organization_id, created_at, id) where deleted_at is null;
-- Unknown revenue sorts as -1 (first ascending, last descending) so keyset cursors never meet NULL.
create index clients_list_revenue on clients (organization_id, (coalesce(annual_revenue, -1)), id) where deleted_at is null;
-- Filters that narrow a lot: a staff member's clients, a status, a risk level.
create index clients_assigned on clients (organization_id, assigned_to, business_name, id) where deleted_at is null;
create index clients_status on clients (organization_id, status, business_name, id) where deleted_at is null;
create index clients_risk on clients (organization_id, risk_level, business_name, id) where deleted_at is null;
create index clients_tags on clients using gin (organization_id, tags) where deleted_at is null;
-- Search, in the order it is tried: names starting with the words (in name order, so LIMIT stops
-- early); full text anywhere in names, contacts and emails (prefixes); trigrams for typos; and an
-- exact tax id by its keyed hash.
create index clients_name_prefix on clients (organization_id, name_key text_pattern_ops, id) where deleted_at is null;
create index clients_search on clients using gin (organization_id, search) where deleted_at is null;
create index clients_name_trgm on clients using gin (organization_id, business_name gin_trgm_ops)
    where deleted_at is null;
create index clients_tax_id on clients (organization_id, tax_id_index) where tax_id_index is not null;
create unique index clients_quickbooks_customer on clients (organization_id, quickbooks_customer_id)
    where quickbooks_customer_id is not null;

create table engagements (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    client_id        uuid not null references clients (id) on delete cascade,
    name             text not null check (length(name) between 1 and 300),
    engagement_type  text not null check (engagement_type in ('tax_preparation', 'bookkeeping', 'advisory',
                         'cfo_services', 'audit', 'review')),
    status           text not null default 'planning' check (status in ('planning', 'in_progress', 'review',
                         'completed', 'on_hold', 'cancelled')),
    priority         text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
    description      text check (length(description) <= 10000),
    start_date       date,
    due_date         date,
    completed_at     timestamptz,
    estimated_hours  numeric(9, 2) check (estimated_hours >= 0),
    actual_hours     numeric(9, 2) not null default 0 check (actual_hours >= 0),
    hourly_rate      numeric(12, 2) check (hourly_rate >= 0),
    fixed_fee        numeric(14, 2) check (fixed_fee >= 0),
    tax_year         integer check (tax_year between 1900 and 2200),
    assigned_to      uuid references users (id) on delete set null,
    created_by       uuid,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    check (due_date is null or start_date is null or due_date >= start_date)
);
select enable_tenancy('engagements');
create trigger engagements_updated_at before update on engagements for each row execute function set_updated_at();
create index engagements_by_client on engagements (organization_id, client_id, created_at desc, id desc);
create index engagements_by_assignee on engagements (organization_id, assigned_to, due_date, id)
    where status not in ('completed', 'cancelled');
create index engagements_by_status on engagements (organization_id, status, due_date, id);

-- Per-organization invoice numbers: the next number, handed out under a row lock.
create table invoice_sequences (
    organization_id  uuid primary key references organizations (id) on delete cascade,
    next_number      bigint not null default 1
);
select enable_tenancy('invoice_sequences');

create table invoices (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    client_id        uuid not null references clients (id) on delete cascade,
    engagement_id    uuid references engagements (id) on delete set null,
    number           text not null check (length(number) between 1 and 40),
    title            text check (length(title) <= 300),
    status           text not null default 'draft' check (status in ('draft', 'sent', 'viewed', 'partial',
                         'paid', 'overdue', 'cancelled')),
    issue_date       date not null,
    due_date         date not null check (due_date >= issue_date),
    currency         text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
    tax_rate         numeric(7, 6) not null default 0 check (tax_rate between 0 and 1),
    subtotal         numeric(14, 2) not null check (subtotal >= 0),
    tax_amount       numeric(14, 2) not null check (tax_amount >= 0),
    discount_amount  numeric(14, 2) not null default 0 check (discount_amount >= 0),
    total            numeric(14, 2) not null,
    paid_amount      numeric(14, 2) not null default 0 check (paid_amount >= 0),
    balance          numeric(14, 2) generated always as (total - paid_amount) stored,
    notes            text check (length(notes) <= 10000),
    sent_at          timestamptz,
    viewed_at        timestamptz,
    paid_at          timestamptz,
    cancelled_at     timestamptz,
    created_by       uuid,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    unique (organization_id, number),
    -- The server keeps amounts consistent; the database refuses anything else.
    check (total = subtotal + tax_amount - discount_amount),
    check (total >= 0 and paid_amount <= total)
);
select enable_tenancy('invoices');
create trigger invoices_updated_at before update on invoices for each row execute function set_updated_at();
create index invoices_list on invoices (organization_id, issue_date desc, id desc);
create index invoices_by_client on invoices (organization_id, client_id, issue_date desc, id desc);
create index invoices_by_status on invoices (organization_id, status, issue_date desc, id desc);
-- AR aging: open balances by due date, covering the amount.
create index invoices_open_by_due on invoices (organization_id, due_date) include (balance, client_id)
    where status in ('sent', 'viewed', 'partial', 'overdue');

-- Open receivables per organization and due date, kept by triggers on invoices: AR aging sums a
-- few hundred rows instead of every open invoice of the firm.
create table ar_open_by_due (
    organization_id  uuid not null references organizations (id) on delete cascade,
    due_date         date not null,
    balance          numeric(16, 2) not null default 0,
    invoices         integer not null default 0,
    primary key (organization_id, due_date)
);
select enable_tenancy('ar_open_by_due');

create function invoices_maintain_ar() returns trigger
language plpgsql
as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.status in ('sent', 'viewed', 'partial', 'overdue') then
        update ar_open_by_due set balance = balance - old.balance, invoices = invoices - 1
        where organization_id = old.organization_id and due_date = old.due_date;
    end if;
    if tg_op in ('INSERT', 'UPDATE') and new.status in ('sent', 'viewed', 'partial', 'overdue') then
        insert into ar_open_by_due (organization_id, due_date, balance, invoices)
        values (new.organization_id, new.due_date, new.balance, 1)
        on conflict (organization_id, due_date) do update
            set balance = ar_open_by_due.balance + excluded.balance, invoices = ar_open_by_due.invoices + 1;
    end if;
    return null;
end $$;
create trigger invoices_ar_insert after insert on invoices for each row execute function invoices_maintain_ar();
create trigger invoices_ar_delete after delete on invoices for each row execute function invoices_maintain_ar();
create trigger invoices_ar_update after update on invoices for each row
    when (old.status is distinct from new.status or old.total is distinct from new.total
          or old.paid_amount is distinct from new.paid_amount or old.due_date is distinct from new.due_date)
    execute function invoices_maintain_ar();

create table invoice_lines (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    invoice_id       uuid not null references invoices (id) on delete cascade,
    position         integer not null,
    description      text not null check (length(description) between 1 and 500),
    quantity         numeric(14, 4) not null check (quantity > 0),
    unit_price       numeric(14, 2) not null check (unit_price >= 0),
    amount           numeric(14, 2) not null,
    unique (invoice_id, position)
);
select enable_tenancy('invoice_lines');

create table invoice_payments (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    invoice_id       uuid not null references invoices (id) on delete cascade,
    amount           numeric(14, 2) not null check (amount > 0),
    paid_on          date not null,
    method           text check (length(method) <= 50),
    reference        text check (length(reference) <= 200),
    recorded_by      uuid,
    created_at       timestamptz not null default now()
);
select enable_tenancy('invoice_payments');
create index invoice_payments_by_invoice on invoice_payments (invoice_id, paid_on);

create table client_portal_access (
    id                    uuid primary key,
    organization_id       uuid not null references organizations (id) on delete cascade,
    user_id               uuid not null references users (id) on delete cascade,
    client_id             uuid not null references clients (id) on delete cascade,
    access_level          text not null default 'view' check (access_level in ('view', 'edit', 'admin')),
    can_view_financials   boolean not null default true,
    can_upload_documents  boolean not null default true,
    can_message           boolean not null default true,
    can_approve_invoices  boolean not null default false,
    can_manage_team       boolean not null default false,
    can_export_data       boolean not null default false,
    granted_by            uuid,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    expires_at            timestamptz,
    revoked_at            timestamptz
);
select enable_tenancy('client_portal_access');
create trigger client_portal_access_updated_at before update on client_portal_access
    for each row execute function set_updated_at();
create unique index client_portal_access_live on client_portal_access (organization_id, user_id, client_id)
    where revoked_at is null;
create index client_portal_access_by_client on client_portal_access (organization_id, client_id);

create table notes (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    client_id        uuid references clients (id) on delete cascade,
    engagement_id    uuid references engagements (id) on delete cascade,
    title            text check (length(title) <= 300),
    body             text not null check (length(body) between 1 and 20000),
    note_type        text not null default 'general' check (note_type in ('general', 'meeting', 'reminder', 'follow_up')),
    -- Private notes are visible to their author only.
    is_private       boolean not null default false,
    remind_at        timestamptz,
    author_id        uuid not null references users (id) on delete cascade,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    deleted_at       timestamptz,
    check (client_id is not null or engagement_id is not null)
);
select enable_tenancy('notes');
create trigger notes_updated_at before update on notes for each row execute function set_updated_at();
create index notes_by_client on notes (organization_id, client_id, created_at desc, id desc) where deleted_at is null;
create index notes_by_engagement on notes (organization_id, engagement_id, created_at desc, id desc)
    where deleted_at is null;
create index notes_reminders on notes (organization_id, remind_at) where remind_at is not null and deleted_at is null;
