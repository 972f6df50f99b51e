-- Tasks and work items: ad-hoc tasks (work outside any run), their dependencies, and what both
-- a run's step and a task carry alike — a checklist, comments with @mentions, and attachments
-- (links to the client's documents).
--
-- A "work item" is a step or a task. Its children name it by one of two foreign keys (exactly
-- one set), so deleting the step's run or the task deletes them, and an attachment can only
-- point at a document that exists.

create table tasks (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    client_id        uuid references clients (id) on delete cascade,
    engagement_id    uuid references engagements (id) on delete set null,
    title            text not null check (length(title) between 1 and 200),
    description      text check (length(description) <= 10000),
    assignee_id      uuid references users (id) on delete set null,
    reviewer_id      uuid references users (id) on delete set null,
    due_date         date not null,
    priority         text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
    estimated_hours  numeric(8, 2) check (estimated_hours >= 0),
    status           text not null default 'open' check (status in ('open', 'in_progress', 'done', 'cancelled')),
    created_by       uuid references users (id) on delete set null,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    started_at       timestamptz,
    completed_at     timestamptz
);
select enable_tenancy('tasks');
create trigger tasks_updated_at before update on tasks
    for each row execute function set_updated_at();
-- The lists, each an index walk in (due_date, id) order over open tasks: a member's ("my work"),
-- a reviewer's queue, a client's, and the firm's (overdue, due this week).
create index tasks_open_by_assignee on tasks (organization_id, assignee_id, due_date, id)
    where status in ('open', 'in_progress');
create index tasks_open_by_reviewer on tasks (organization_id, reviewer_id, due_date, id)
    where status in ('open', 'in_progress') and reviewer_id is not null;
create index tasks_open_by_client on tasks (organization_id, client_id, due_date, id)
    where status in ('open', 'in_progress') and client_id is not null;
create index tasks_open_by_due on tasks (organization_id, due_date, id)
    where status in ('open', 'in_progress');

-- A task is blocked until every task it depends on is done. The use case refuses cycles.
create table task_dependencies (
    organization_id  uuid not null references organizations (id) on delete cascade,
    task_id          uuid not null references tasks (id) on delete cascade,
    depends_on_id    uuid not null references tasks (id) on delete cascade,
    primary key (organization_id, task_id, depends_on_id),
    check (task_id <> depends_on_id)
);
select enable_tenancy('task_dependencies');
create index task_dependencies_dependants on task_dependencies (organization_id, depends_on_id);

-- Open run steps by due date firm-wide (overdue, due this week); the per-assignee index exists.
create index workflow_steps_open_by_due on workflow_steps (organization_id, due_date, id)
    where status in ('ready', 'in_progress', 'blocked');

create table work_item_checklist (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    task_id          uuid references tasks (id) on delete cascade,
    step_id          uuid references workflow_steps (id) on delete cascade,
    position         integer not null check (position >= 0),
    text             text not null check (length(text) between 1 and 500),
    done             boolean not null default false,
    done_by          uuid references users (id) on delete set null,
    done_at          timestamptz,
    created_at       timestamptz not null default now(),
    check (num_nonnulls(task_id, step_id) = 1)
);
select enable_tenancy('work_item_checklist');
create index work_item_checklist_of_task on work_item_checklist (organization_id, task_id, position)
    where task_id is not null;
create index work_item_checklist_of_step on work_item_checklist (organization_id, step_id, position)
    where step_id is not null;

create table work_item_comments (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    task_id          uuid references tasks (id) on delete cascade,
    step_id          uuid references workflow_steps (id) on delete cascade,
    author_id        uuid references users (id) on delete set null,
    body             text not null check (length(body) between 1 and 5000),
    -- The members the body @mentions (each notified once, when the comment is written).
    mentions         uuid[] not null default '{}',
    created_at       timestamptz not null default now(),
    check (num_nonnulls(task_id, step_id) = 1)
);
select enable_tenancy('work_item_comments');
create index work_item_comments_of_task on work_item_comments (organization_id, task_id, created_at, id)
    where task_id is not null;
create index work_item_comments_of_step on work_item_comments (organization_id, step_id, created_at, id)
    where step_id is not null;

-- Links to documents the firm already holds for the item's client (the use case checks the client).
create table work_item_attachments (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    task_id          uuid references tasks (id) on delete cascade,
    step_id          uuid references workflow_steps (id) on delete cascade,
    document_id      uuid not null references documents (id) on delete cascade,
    added_by         uuid references users (id) on delete set null,
    created_at       timestamptz not null default now(),
    check (num_nonnulls(task_id, step_id) = 1)
);
select enable_tenancy('work_item_attachments');
create unique index work_item_attachments_task_doc on work_item_attachments (organization_id, task_id, document_id)
    where task_id is not null;
create unique index work_item_attachments_step_doc on work_item_attachments (organization_id, step_id, document_id)
    where step_id is not null;

alter table notifications drop constraint notifications_kind_check;
alter table notifications add constraint notifications_kind_check
    check (kind in ('document_batch_finished', 'workflow_step_assigned', 'task_assigned', 'work_item_mentioned'));
