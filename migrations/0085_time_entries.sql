-- Time entries: what members log on a workflow step or an engagement, as a running timer or
-- as finished time (a stopped timer, or a manual entry).
--
-- An entry on a step carries the engagement of the step's run (`workflow_runs.engagement_id`),
-- copied when it is written, so "an engagement's time" is one indexed filter here and
-- `engagements.actual_hours` is the sum of its finished entries, recomputed by the use case in
-- the transaction that changes one of them.

create table time_entries (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    user_id          uuid not null references users (id) on delete cascade,
    client_id        uuid not null references clients (id) on delete cascade,
    engagement_id    uuid references engagements (id) on delete set null,
    step_id          uuid references workflow_steps (id) on delete set null,
    started_at       timestamptz not null,
    -- Null while the timer runs.
    ended_at         timestamptz,
    -- Computed when a timer stops (`domain::time::timer_minutes`), or given for a manual entry.
    minutes          integer check (minutes between 1 and 1440),
    billable         boolean not null default true,
    -- Defaults to the engagement's rate when the entry is written; null: no rate known.
    hourly_rate      numeric(12, 2) check (hourly_rate >= 0),
    note             text check (length(note) <= 2000),
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    check ((ended_at is null) = (minutes is null)),
    check (ended_at is null or ended_at >= started_at)
);
select enable_tenancy('time_entries');
create trigger time_entries_updated_at before update on time_entries
    for each row execute function set_updated_at();
-- At most one running timer per member.
create unique index time_entries_one_running on time_entries (organization_id, user_id) where ended_at is null;
-- A member's time sheet: their entries of a week, by start.
create index time_entries_by_user on time_entries (organization_id, user_id, started_at, id);
-- An engagement's entries, newest first, and its totals.
create index time_entries_by_engagement on time_entries (organization_id, engagement_id, started_at desc, id desc)
    where engagement_id is not null;
-- The hours logged per step on a run's page.
create index time_entries_by_step on time_entries (organization_id, step_id) where step_id is not null;
