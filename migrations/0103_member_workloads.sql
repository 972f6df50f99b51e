-- Each member's open workload, kept as it changes instead of summed on every read. Routing read
-- it by aggregating the member's open steps for every step it routed — a millisecond of
-- PostgreSQL per step completion at bench scale, growing with the open work. Now triggers on
-- `workflow_steps` add each statement's change (open estimated hours and steps, the latest
-- assignment) to `member_workloads`, and a read is a few rows per member.
--
-- A member's load is a few rows (slots) summed on read. A change is added to the first of the
-- member's rows no other transaction holds (`for update skip locked`); when every row is held, it
-- goes to a new row under a random slot number. So a change never waits for another transaction:
-- concurrent completions touching the same members neither queue on one row through their
-- commits nor deadlock (a transaction holding one member's row while waiting for another's, the
-- other way round). The rows never outnumber the most transactions that held that member's rows
-- at once.

create table member_workloads (
    organization_id   uuid not null references organizations (id) on delete cascade,
    user_id           uuid not null references users (id) on delete cascade,
    slot              integer not null check (slot >= 0),
    -- Estimated hours and count of the member's steps that are ready, in progress or blocked.
    open_hours        numeric(12, 2) not null default 0,
    open_steps        integer not null default 0,
    -- When the member was last given a step (round robin's order).
    last_assigned_at  timestamptz,
    primary key (organization_id, user_id, slot)
);
select enable_tenancy('member_workloads');

create function member_workload_add(org uuid, member uuid, hours numeric, steps integer, assigned timestamptz)
returns void
language plpgsql
as $$
begin
    if hours = 0 and steps = 0 and assigned is null then
        return;
    end if;
    update member_workloads w
       set open_hours = w.open_hours + hours, open_steps = w.open_steps + steps,
           last_assigned_at = greatest(w.last_assigned_at, assigned)
     where (w.organization_id, w.user_id, w.slot) = (
           select f.organization_id, f.user_id, f.slot from member_workloads f
            where f.organization_id = org and f.user_id = member
            order by f.slot limit 1 for update skip locked);
    if found then
        return;
    end if;
    -- A member being deleted in this transaction (their steps losing the assignee) keeps no row.
    if not exists (select 1 from users where id = member) then
        return;
    end if;
    -- Every row held (or none yet): a new one. Two transactions drawing the same slot (one in two
    -- billion) add up through the conflict clause, the second waiting for the first.
    insert into member_workloads (organization_id, user_id, slot, open_hours, open_steps, last_assigned_at)
    values (org, member, floor(random() * 2147483647)::integer, hours, steps, assigned)
    on conflict (organization_id, user_id, slot) do update
       set open_hours = member_workloads.open_hours + excluded.open_hours,
           open_steps = member_workloads.open_steps + excluded.open_steps,
           last_assigned_at = greatest(member_workloads.last_assigned_at, excluded.last_assigned_at);
end $$;

-- One call per member a statement touched, in member order.
create function workflow_steps_workload_insert() returns trigger
language plpgsql
as $$
begin
    perform member_workload_add(organization_id, assignee_id, sum(estimated_hours), count(*)::int, max(assigned_at))
       from new_steps
      where assignee_id is not null and status in ('ready', 'in_progress', 'blocked')
      group by organization_id, assignee_id
      order by organization_id, assignee_id;
    return null;
end $$;

create function workflow_steps_workload_update() returns trigger
language plpgsql
as $$
begin
    perform member_workload_add(organization_id, user_id, sum(hours), sum(steps)::int, max(assigned_at))
       from (select n.organization_id, n.assignee_id as user_id,
                    case when n.status in ('ready', 'in_progress', 'blocked') then n.estimated_hours else 0 end
                        as hours,
                    case when n.status in ('ready', 'in_progress', 'blocked') then 1 else 0 end as steps,
                    case when n.assigned_at is distinct from o.assigned_at then n.assigned_at end as assigned_at
               from new_steps n join old_steps o on o.id = n.id
              where n.assignee_id is not null
             union all
             select organization_id, assignee_id, -estimated_hours, -1, null
               from old_steps
              where assignee_id is not null and status in ('ready', 'in_progress', 'blocked')) change
      group by organization_id, user_id
      order by organization_id, user_id;
    return null;
end $$;

create function workflow_steps_workload_delete() returns trigger
language plpgsql
as $$
begin
    perform member_workload_add(organization_id, assignee_id, -sum(estimated_hours), -count(*)::int, null)
       from old_steps
      where assignee_id is not null and status in ('ready', 'in_progress', 'blocked')
      group by organization_id, assignee_id
      order by organization_id, assignee_id;
    return null;
end $$;

create trigger workflow_steps_workload_insert after insert on workflow_steps
    referencing new table as new_steps
    for each statement execute function workflow_steps_workload_insert();
create trigger workflow_steps_workload_update after update on workflow_steps
    referencing old table as old_steps new table as new_steps
    for each statement execute function workflow_steps_workload_update();
create trigger workflow_steps_workload_delete after delete on workflow_steps
    referencing old table as old_steps
    for each statement execute function workflow_steps_workload_delete();

-- The loads as they stand, one firm at a time under its own tenancy (organization_directory
-- names every firm and has no row-level security).
do $$
declare
    org uuid;
begin
    for org in select organization_id from organization_directory loop
        perform set_config('app.organization_id', org::text, true);
        insert into member_workloads (organization_id, user_id, slot, open_hours, open_steps, last_assigned_at)
        select organization_id, assignee_id, 0, sum(estimated_hours), count(*), max(assigned_at)
          from workflow_steps
         where organization_id = org and assignee_id is not null
           and status in ('ready', 'in_progress', 'blocked')
         group by organization_id, assignee_id;
    end loop;
    perform set_config('app.organization_id', '', true);
end $$;

-- Routing no longer sums a member's open steps; the team view's weekly hours read them through
-- `workflow_steps_by_assignee`.
drop index workflow_steps_open_by_assignee;
