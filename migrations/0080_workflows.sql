-- Workflows: a firm's templates (the system templates live in code under fixed ids), runs of a
-- template for a client, and each run's steps — the tasks members work on.
--
-- A run copies its template's steps into `workflow_steps` when it starts, so editing or
-- archiving the template later never changes work under way; `template_version` says which
-- version it started from.

create table workflow_templates (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    name             text not null check (length(name) between 1 and 120),
    category         text not null check (category in ('tax_preparation', 'bookkeeping', 'onboarding',
                         'year_end', 'compliance', 'advisory')),
    -- The template's content (`domain::workflow::Template`), validated by the use case on save.
    content          jsonb not null,
    -- Bumped on every save of the content.
    version          integer not null default 1 check (version >= 1),
    -- The system template it was copied from, if any.
    copied_from      uuid,
    archived_at      timestamptz,
    created_by       uuid references users (id) on delete set null,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
select enable_tenancy('workflow_templates');
create trigger workflow_templates_updated_at before update on workflow_templates
    for each row execute function set_updated_at();
create index workflow_templates_by_name on workflow_templates (organization_id, lower(name), id);

create table workflow_runs (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    client_id        uuid not null references clients (id) on delete cascade,
    engagement_id    uuid references engagements (id) on delete set null,
    -- A firm template's id or a system template's fixed id (no foreign key: system templates
    -- have no row, and a firm template's archive keeps its runs).
    template_id      uuid not null,
    template_version integer not null check (template_version >= 1),
    name             text not null check (length(name) between 1 and 200),
    status           text not null default 'active' check (status in ('active', 'paused', 'done', 'cancelled')),
    due_date         date not null,
    created_by       uuid references users (id) on delete set null,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    finished_at      timestamptz
);
select enable_tenancy('workflow_runs');
create trigger workflow_runs_updated_at before update on workflow_runs
    for each row execute function set_updated_at();
create index workflow_runs_by_client on workflow_runs (organization_id, client_id, created_at desc, id desc);
create index workflow_runs_open on workflow_runs (organization_id, due_date, id)
    where status in ('active', 'paused');

create table workflow_steps (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    run_id           uuid not null references workflow_runs (id) on delete cascade,
    position         smallint not null check (position >= 0),
    key              text not null check (length(key) between 1 and 40),
    name             text not null check (length(name) between 1 and 120),
    kind             text not null check (kind in ('task', 'approval', 'client_request', 'wait', 'automation')),
    task_type        text not null,
    automation       text,
    role             text,
    skill            text,
    estimated_hours  numeric(8, 2) not null check (estimated_hours >= 0),
    -- Positions (within the run) of the steps this one needs.
    depends_on       smallint[] not null default '{}',
    due_date         date not null,
    wait_days        smallint,
    status           text not null check (status in ('pending', 'ready', 'in_progress', 'done', 'skipped',
                         'blocked', 'cancelled')),
    assignee_id      uuid references users (id) on delete set null,
    started_at       timestamptz,
    completed_at     timestamptz,
    updated_at       timestamptz not null default now(),
    unique (run_id, position),
    unique (run_id, key)
);
select enable_tenancy('workflow_steps');
create trigger workflow_steps_updated_at before update on workflow_steps
    for each row execute function set_updated_at();
-- "My work": a member's open steps by due date.
create index workflow_steps_by_assignee on workflow_steps (organization_id, assignee_id, due_date, id)
    where status in ('ready', 'in_progress', 'blocked');
