-- Recurring runs and bulk starts (crate `workflow-recurrence`, use cases in
-- `practice::workflow_recurrence`): the firm's time zone, per-client schedules with a cron
-- expression evaluated in that zone, the periods each schedule has produced (started or missed),
-- and bulk starts of one template for many clients with their per-client items.
--
-- Exactly once is carried by primary keys, not by the scheduler: a period is (schedule, period
-- start) and a bulk item is (bulk start, client), each written in the transaction that creates
-- its run, so a second scheduler, a retried job or a concurrent tick finds the row and does nothing.

-- IANA name (validated by the use case against the tz database compiled into the binary).
alter table workflow_settings
    add column time_zone text not null default 'UTC' check (length(time_zone) between 1 and 64);

create table workflow_schedules (
    id                uuid primary key,
    organization_id   uuid not null references organizations (id) on delete cascade,
    client_id         uuid not null references clients (id) on delete cascade,
    engagement_id     uuid references engagements (id) on delete set null,
    -- A firm template's id or a system template's fixed id (see workflow_runs.template_id).
    template_id       uuid not null,
    -- 5 fields (or 6 with seconds first), evaluated in the firm's time zone: each occurrence
    -- starts a period.
    cron              text not null check (length(cron) between 1 and 100),
    -- The run is due on this business day counted from the period start (1 = the first business
    -- day on or after it): `0 0 1 * *` with 5 is "the monthly close, due on the 5th business day".
    due_business_day  smallint not null check (due_business_day between 1 and 60),
    paused_at         timestamptz,
    -- The next period start to create (UTC); the scheduler's cursor. Recomputed on resume and
    -- when the firm's time zone changes.
    next_run_at       timestamptz not null,
    created_by        uuid references users (id) on delete set null,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);
select enable_tenancy('workflow_schedules');
create trigger workflow_schedules_updated_at before update on workflow_schedules
    for each row execute function set_updated_at();
create index workflow_schedules_by_client on workflow_schedules (organization_id, client_id, created_at, id);
create index workflow_schedules_due on workflow_schedules (next_run_at) where paused_at is null;

-- One row per period a schedule reached: `started` with its run, or `missed` (the scheduler was
-- down past it) until someone starts it from the schedule.
create table workflow_schedule_periods (
    organization_id  uuid not null references organizations (id) on delete cascade,
    schedule_id      uuid not null references workflow_schedules (id) on delete cascade,
    period_start     timestamptz not null,
    status           text not null check (status in ('started', 'missed')),
    run_id           uuid references workflow_runs (id) on delete set null,
    created_at       timestamptz not null default now(),
    started_at       timestamptz,
    primary key (schedule_id, period_start)
);
select enable_tenancy('workflow_schedule_periods');
create index workflow_schedule_periods_missed on workflow_schedule_periods (organization_id, schedule_id)
    where status = 'missed';

-- The scheduler's only cross-tenant read: which schedules are due, by id. Everything else (the
-- schedule itself, its periods, the run) is read and written in the tenant's transaction.
create function workflow_schedules_due(due_at timestamptz, max_rows integer)
returns table (organization_id uuid, schedule_id uuid)
language sql stable security definer set search_path = public, pg_temp
as $$
    select s.organization_id, s.id from workflow_schedules s
     where s.paused_at is null and s.next_run_at <= due_at
     order by s.next_run_at, s.id
     limit max_rows
$$;
revoke all on function workflow_schedules_due(timestamptz, integer) from public;
grant execute on function workflow_schedules_due(timestamptz, integer) to countinghouse_app;

create table workflow_bulk_starts (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    template_id      uuid not null,
    name             text check (length(name) between 1 and 200),
    due_date         date not null,
    status           text not null default 'queued' check (status in ('queued', 'running', 'done')),
    total            integer not null check (total between 1 and 100000),
    started          integer not null default 0,
    failed           integer not null default 0,
    created_by       uuid references users (id) on delete set null,
    created_at       timestamptz not null default now(),
    finished_at      timestamptz
);
select enable_tenancy('workflow_bulk_starts');

create table workflow_bulk_items (
    organization_id  uuid not null references organizations (id) on delete cascade,
    bulk_id          uuid not null references workflow_bulk_starts (id) on delete cascade,
    -- No foreign key: a client deleted meanwhile is recorded as a failure, not a lost row.
    client_id        uuid not null,
    position         integer not null,
    status           text not null default 'pending' check (status in ('pending', 'started', 'failed')),
    run_id           uuid references workflow_runs (id) on delete set null,
    error            text check (length(error) <= 500),
    primary key (bulk_id, client_id)
);
select enable_tenancy('workflow_bulk_items');
create index workflow_bulk_items_pending on workflow_bulk_items (bulk_id, position) where status = 'pending';
