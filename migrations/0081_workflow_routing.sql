-- Routing ready workflow steps to people: each member's weekly capacity, skills and time off; the
-- firm's routing setting (off, round robin or scored, with an optional A/B split); and, on each
-- step, when it became ready, when and how it was assigned, why, and how often it was reassigned
-- (the figures the A/B comparison reads).

create table member_capacity (
    organization_id  uuid not null references organizations (id) on delete cascade,
    user_id          uuid not null references users (id) on delete cascade,
    weekly_hours     numeric(5, 2) not null default 40 check (weekly_hours between 0 and 168),
    skills           text[] not null default '{}',
    away_from        date,
    away_until       date,
    updated_at       timestamptz not null default now(),
    primary key (organization_id, user_id),
    check (away_until is null or away_from is null or away_until >= away_from)
);
select enable_tenancy('member_capacity');
create trigger member_capacity_updated_at before update on member_capacity
    for each row execute function set_updated_at();

create table workflow_settings (
    organization_id  uuid primary key references organizations (id) on delete cascade,
    routing          text not null default 'off' check (routing in ('off', 'round_robin', 'scored')),
    -- With `ab_percent` > 0, that share of ready steps is routed by `ab_routing` instead.
    ab_routing       text check (ab_routing in ('round_robin', 'scored')),
    ab_percent       smallint not null default 0 check (ab_percent between 0 and 100),
    updated_at       timestamptz not null default now()
);
select enable_tenancy('workflow_settings');
create trigger workflow_settings_updated_at before update on workflow_settings
    for each row execute function set_updated_at();

alter table workflow_steps
    add column ready_at timestamptz,
    add column assigned_at timestamptz,
    add column routed_by text check (routed_by in ('round_robin', 'scored')),
    add column routing_reasons jsonb,
    add column reassignments smallint not null default 0;
-- A member's open estimated hours (workload) and last assignment (round robin).
create index workflow_steps_open_by_assignee on workflow_steps (organization_id, assignee_id)
    include (estimated_hours, assigned_at)
    where status in ('ready', 'in_progress', 'blocked');

alter table notifications drop constraint notifications_kind_check;
alter table notifications add constraint notifications_kind_check
    check (kind in ('document_batch_finished', 'workflow_step_assigned'));
