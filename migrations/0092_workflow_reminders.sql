-- Time-driven workflow notifications and the firm's holiday calendar.
--
-- `firm_holidays`: the firm's own closed days, on top of the US federal holidays the code knows;
-- due dates of new runs are counted in business days of both.
--
-- `workflow_reminders`: one row per notification the reminders job sent (a step due soon or
-- overdue, a client request's reminder mail, a stuck run, a step over its estimate), written in
-- the transaction that sends it. Its unique key names the subject and the occurrence, so two
-- workers ticking at once, or a tick run again, never send the same one twice.
--
-- `workflow_runs.progressed_at`: when a step of the run last changed status (or the run itself
-- did: paused, resumed), kept by triggers so every writer of statuses keeps it without knowing;
-- a run of status active that has not progressed for 7 days is stuck.

create table firm_holidays (
    organization_id  uuid not null references organizations (id) on delete cascade,
    day              date not null check (day between '1900-01-01' and '2199-12-31'),
    name             text not null check (length(name) between 1 and 120),
    created_by       uuid references users (id) on delete set null,
    created_at       timestamptz not null default now(),
    primary key (organization_id, day)
);
select enable_tenancy('firm_holidays');

create table workflow_reminders (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    -- The run (and step) it was about: null step for the whole run (stuck); both null is left for
    -- work outside runs.
    run_id           uuid references workflow_runs (id) on delete cascade,
    step_id          uuid references workflow_steps (id) on delete cascade,
    kind             text not null check (kind in ('due_soon', 'overdue', 'client_request', 'stuck_run',
                         'over_estimate')),
    -- The nth of its kind for the subject (a client request's reminders 1 to 3), else 1.
    nth              smallint not null default 1 check (nth between 1 and 100),
    -- `<kind>:<subject id>[:<occurrence>]`: at most one reminder per key.
    dedupe_key       text not null check (length(dedupe_key) between 1 and 200),
    -- Notifications written or mails queued.
    recipients       integer not null default 0 check (recipients >= 0),
    -- The tick's clock (the job's `now`), not the commit's.
    sent_at          timestamptz not null,
    unique (organization_id, dedupe_key)
);
select enable_tenancy('workflow_reminders');
-- A run's reminders (its page), and what a step already had (the job's "not yet sent" checks).
create index workflow_reminders_by_run on workflow_reminders (organization_id, run_id, sent_at);
create index workflow_reminders_by_step on workflow_reminders (organization_id, step_id, kind)
    where step_id is not null;

-- Existing runs count as progressed now: they can be stuck a week after this migration at the earliest.
alter table workflow_runs add column progressed_at timestamptz not null default now();
create index workflow_runs_progress on workflow_runs (organization_id, progressed_at)
    where status = 'active';

create function workflow_step_progressed() returns trigger
language plpgsql
as $$
begin
    -- One update per run and transaction: a statement changing many steps writes the run once.
    update workflow_runs set progressed_at = now()
     where organization_id = new.organization_id and id = new.run_id and progressed_at < now();
    return null;
end $$;
create trigger workflow_steps_progress after update of status on workflow_steps
    for each row when (old.status is distinct from new.status) execute function workflow_step_progressed();

create function workflow_run_progressed() returns trigger
language plpgsql
as $$
begin
    new.progressed_at = now();
    return new;
end $$;
create trigger workflow_runs_progress before update of status on workflow_runs
    for each row when (old.status is distinct from new.status) execute function workflow_run_progressed();

-- Open client requests by when they became ready (the reminders' scan).
create index workflow_steps_open_client_requests on workflow_steps (organization_id, ready_at)
    where kind = 'client_request' and status in ('ready', 'in_progress');

-- A step's open estimate against its logged time (the over-estimate scan): in-progress steps.
create index workflow_steps_in_progress on workflow_steps (organization_id, id)
    where status = 'in_progress';

-- New notification kinds, added to whatever the check allows now (other migrations add theirs the
-- same way, so the order they run in does not matter).
do $$
declare
    kinds text[];
begin
    select array_agg(distinct m[1] order by m[1]) into kinds
      from pg_constraint c, regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') as m
     where c.conrelid = 'notifications'::regclass and c.conname = 'notifications_kind_check';
    kinds := array(select distinct unnest(kinds || array['workflow_step_due_soon', 'workflow_step_overdue',
                                                        'workflow_run_stuck', 'workflow_step_over_estimate'])
                   order by 1);
    alter table notifications drop constraint notifications_kind_check;
    execute format('alter table notifications add constraint notifications_kind_check check (kind = any (%L::text[]))',
                   kinds);
end $$;
