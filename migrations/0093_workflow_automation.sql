-- Steps that run themselves: wait steps and automation steps (send an email to the client's
-- portal users, request documents from them, start a QuickBooks sync), and the cache of
-- automation results.
--
-- `workflow_step_automation` holds, per wait or automation step, what the system did with it:
-- when a wait ends, and an automation's outcome (its result, its last error, whether the result
-- came from the cache). It is written in the transaction that makes the step ready (with the job
-- that will act on it) and by that job; `workflow_steps` keeps only the step's status.

create table workflow_step_automation (
    step_id          uuid primary key references workflow_steps (id) on delete cascade,
    organization_id  uuid not null references organizations (id) on delete cascade,
    run_id           uuid not null references workflow_runs (id) on delete cascade,
    -- For a wait step: when the job completes it (ready time + its business days).
    wait_until       timestamptz,
    -- What the automation did (`workflow_automation::Outcome` as JSON): recipients, sync run …
    result           jsonb,
    -- The last attempt's error, kept when the step is blocked after the last attempt.
    error            text check (length(error) <= 2000),
    -- The result was reused from `workflow_step_cache` instead of acting again.
    cached           boolean not null default false,
    -- Attempts made at the action (the job's attempts, over every retry of the step).
    attempts         integer not null default 0 check (attempts >= 0),
    finished_at      timestamptz,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now()
);
select enable_tenancy('workflow_step_automation');
create trigger workflow_step_automation_updated_at before update on workflow_step_automation
    for each row execute function set_updated_at();
-- A run's page reads its steps' outcomes together.
create index workflow_step_automation_by_run on workflow_step_automation (organization_id, run_id);

-- Results of automation steps keyed by a hash of their inputs, reused until they expire (the TTL
-- depends on the step's task type). Only actions whose repetition is the same fact are stored
-- here (see the crate `workflow-automation`): never a mail to a client.
create table workflow_step_cache (
    organization_id  uuid not null references organizations (id) on delete cascade,
    step_type        text not null check (length(step_type) between 1 and 60),
    -- SHA-256 of the canonical inputs, hex.
    input_hash       text not null check (length(input_hash) = 64),
    result           jsonb not null,
    expires_at       timestamptz not null,
    created_at       timestamptz not null default now(),
    primary key (organization_id, step_type, input_hash)
);
select enable_tenancy('workflow_step_cache');
