-- The durable job queue (crate `jobs`): jobs, per-key limits, step checkpoints, cron schedules and
-- throughput counters, plus the SQL functions the workers call on their hot paths.
--
-- Global infrastructure, not tenant data: one queue serves every organization and a worker claims
-- the jobs of all tenants in one indexed scan, so these tables have no row-level security. A job's
-- tenant is its `organization_id` (NULL for platform jobs) and is also in its payload; handlers
-- open a TenantTx for that organization before touching tenant tables. The app role gets exactly
-- the DML that enqueuers, workers, the scheduler and the operator functions issue, and no DDL.

create table jobs (
    id                bigint generated always as identity primary key,
    queue             text not null check (length(queue) between 1 and 100),
    kind              text not null check (length(kind) between 1 and 200),
    -- The tenant, if any. No foreign key: enqueueing must not lock organization rows, and a job
    -- whose organization was deleted finds nothing to do.
    organization_id   uuid,
    payload           jsonb not null,
    -- available: waits for run_at; running: leased by a worker; retrying: waits after a failed
    -- attempt; dead: out of attempts or failed fatally (kept with its last error); cancelled.
    -- A job that succeeds is deleted, with its checkpoints (`job_stats` counts it).
    state             text not null default 'available'
                      check (state in ('available', 'running', 'retrying', 'dead', 'cancelled')),
    priority          smallint not null default 0, -- lower runs first
    run_at            timestamptz not null default now(),
    attempt           integer not null default 0, -- attempts started (a released job gives its back)
    max_attempts      integer not null check (max_attempts > 0),
    -- The fencing token: every claim increments it and nothing decreases it, and every write of a
    -- worker names it, so a worker whose lease was taken over (or whose job was cancelled) can
    -- neither complete, fail nor extend the job.
    fence             integer not null default 0,
    -- At most one unfinished job per key (index below); NULL for none.
    unique_key        text check (length(unique_key) <= 500),
    -- Rate / in-flight limit shared by every worker (row in job_limits); NULL for none.
    limit_key         text check (length(limit_key) <= 200),
    leased_by         uuid,
    lease_expires_at  timestamptz,
    last_error        text,
    created_at        timestamptz not null default now(),
    started_at        timestamptz,
    finished_at       timestamptz
)
-- A queue table churns: vacuum it early so claims do not wade through dead index entries, and
-- leave room on each page for heartbeats' HOT updates.
with (fillfactor = 85, autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 2000,
      autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0.05);

-- What workers claim: ready jobs without a limit key, in claim order.
create index jobs_ready on jobs (queue, priority, run_at, id)
    where state in ('available', 'retrying') and limit_key is null;
-- Ready jobs with a limit key, per key (claims walk the keys, then each key's head).
create index jobs_ready_limited on jobs (queue, limit_key, priority, run_at, id)
    where state in ('available', 'retrying') and limit_key is not null;
-- Leased jobs, for the rescue of expired leases. Keyed by the id, which is distinct (an index of
-- equal keys churned at this rate is slow) and which a heartbeat never changes (HOT updates).
create index jobs_running on jobs (id) where state = 'running';
-- Leased jobs per limit key: a key's in-flight count. Jobs without a limit key have no entry.
create index jobs_in_flight on jobs (limit_key) where state = 'running' and limit_key is not null;
-- Unique jobs: one unfinished job per key. A plain unique index (not advisory locks), so it holds
-- under concurrent transactions and within one multi-row insert (ON CONFLICT DO NOTHING).
create unique index jobs_unique_key on jobs (unique_key)
    where unique_key is not null and state in ('available', 'running', 'retrying');
-- Operator views of finished-but-kept jobs (dead letters, cancellations) and their pruning.
create index jobs_finished on jobs (queue, finished_at) where state in ('dead', 'cancelled');
grant select, insert, update, delete on jobs to countinghouse_app;

-- Limits per key, global across workers and processes: a token bucket (rate_per_second, burst)
-- and a cap on leased jobs (max_in_flight). Spec columns are written by enqueue from the job
-- kind's declaration; tokens are refilled lazily by the claim that holds the row's lock.
create table job_limits (
    key              text primary key,
    rate_per_second  double precision check (rate_per_second > 0),
    burst            integer not null default 1 check (burst >= 1),
    max_in_flight    integer check (max_in_flight > 0),
    tokens           double precision not null,
    refilled_at      timestamptz not null default clock_timestamp()
);
grant select, insert, update on job_limits to countinghouse_app;

-- Completed steps of multi-step jobs and their results, so a retried or rescued job resumes.
-- No foreign key: completing a job deletes its rows explicitly, and maintenance removes orphans
-- of pruned jobs; a foreign key would add a check to every job deletion on the hot path.
create table job_checkpoints (
    job_id    bigint not null,
    step      text not null check (length(step) between 1 and 200),
    result    jsonb not null,
    saved_at  timestamptz not null default now(),
    primary key (job_id, step)
);
grant select, insert, update, delete on job_checkpoints to countinghouse_app;

-- Recurring jobs, defined in code and synchronised here; run by the one scheduler that holds
-- the leader advisory lock.
create table job_schedules (
    name           text primary key,
    cron           text not null,
    kind           text not null,
    queue          text not null,
    payload        jsonb not null,
    priority       smallint not null default 0,
    max_attempts   integer not null check (max_attempts > 0),
    next_run_at    timestamptz not null,
    last_run_at    timestamptz,
    last_job_id    bigint,
    -- Occurrences missed while no scheduler ran, beyond the one catch-up run (see jobs::scheduler).
    skipped_runs   bigint not null default 0,
    updated_at     timestamptz not null default now()
);
grant select, insert, update, delete on job_schedules to countinghouse_app;

-- Outcome counters per minute, queue and worker process (one writer per row, so no contention):
-- throughput and failure rates for operators even though succeeded jobs are deleted.
create table job_stats (
    bucket     timestamptz not null,
    queue      text not null,
    worker     uuid not null,
    completed  bigint not null default 0,
    failed     bigint not null default 0,
    dead       bigint not null default 0,
    rescued    bigint not null default 0,
    primary key (bucket, queue, worker)
);
grant select, insert, update, delete on job_stats to countinghouse_app;

-- Claims up to p_max ready jobs of p_queue for p_worker with a lease of p_lease_ms.
--
-- Jobs with a limit key come first, key by key: each key's job_limits row is locked (SKIP LOCKED,
-- in key order, so claimers never wait on each other), its bucket refilled, and at most
-- min(tokens, max_in_flight - running) of its jobs are leased. In-flight is counted from the
-- running rows themselves, so completion, failure, rescue and cancel need no bookkeeping. Then
-- jobs without a limit key fill the rest of the batch.
--
-- Returns the leased jobs; when a key ran out of tokens it also returns one row with id NULL and
-- wake_at = when the first such key has a token again, so the worker knows when to claim again.
-- Claims commit without waiting for the WAL flush: a claim lost in a server crash only means the
-- job runs again, which at-least-once delivery allows.
create function jobs_claim(p_queue text, p_worker uuid, p_max integer, p_lease_ms integer)
returns table (id bigint, kind text, organization_id uuid, payload jsonb, attempt integer,
               max_attempts integer, fence integer, limit_key text, run_at timestamptz,
               started_at timestamptz, wake_at timestamptz)
language plpgsql
as $$
#variable_conflict use_column
declare
    v_now     timestamptz := clock_timestamp();
    v_lease   timestamptz := clock_timestamp() + p_lease_ms * interval '1 millisecond';
    v_left    integer := p_max;
    v_wake    timestamptz;
    v_lim     job_limits;
    v_key_now timestamptz;
    v_tokens  double precision;
    v_room    integer;
    v_taken   integer;
begin
    perform set_config('synchronous_commit', 'off', true);

    if exists (select 1 from jobs j where j.queue = p_queue and j.state in ('available', 'retrying')
               and j.limit_key is not null and j.run_at <= v_now) then
        for v_lim in
            with recursive keys(key) as (
                (select j.limit_key from jobs j
                 where j.queue = p_queue and j.state in ('available', 'retrying') and j.limit_key is not null
                 order by j.limit_key limit 1)
                union all
                select (select j.limit_key from jobs j
                        where j.queue = p_queue and j.state in ('available', 'retrying')
                          and j.limit_key is not null and j.limit_key > keys.key
                        order by j.limit_key limit 1)
                from keys where keys.key is not null
            )
            select l.* from job_limits l
            where l.key in (select keys.key from keys where keys.key is not null)
            order by l.key
            for no key update skip locked
        loop
            exit when v_left <= 0;
            -- Read the clock only now that the key's row is locked: admissions of one key are then
            -- stamped in the order they happen, and the bucket's time never runs backwards.
            v_key_now := clock_timestamp();
            v_tokens := case when v_lim.rate_per_second is null then null
                        else least(v_lim.burst::double precision,
                                   v_lim.tokens + greatest(0, extract(epoch from v_key_now - v_lim.refilled_at))
                                                  * v_lim.rate_per_second) end;
            v_room := v_left;
            if v_tokens is not null then
                v_room := least(v_room, floor(v_tokens)::integer);
            end if;
            if v_lim.max_in_flight is not null then
                v_room := least(v_room, v_lim.max_in_flight - (select count(*)::integer from jobs j
                                 where j.limit_key = v_lim.key and j.state = 'running'));
            end if;
            v_taken := 0;
            if v_room > 0 then
                return query
                with picked as (
                    select j.id from jobs j
                    where j.queue = p_queue and j.limit_key = v_lim.key
                      and j.state in ('available', 'retrying') and j.run_at <= v_key_now
                    order by j.priority, j.run_at, j.id
                    limit v_room
                    for update skip locked
                )
                update jobs j set state = 'running', attempt = j.attempt + 1, fence = j.fence + 1,
                                  leased_by = p_worker, lease_expires_at = v_lease, started_at = v_key_now
                from picked where j.id = picked.id
                returning j.id, j.kind, j.organization_id, j.payload, j.attempt, j.max_attempts,
                          j.fence, j.limit_key, j.run_at, j.started_at, null::timestamptz;
                get diagnostics v_taken = row_count;
                v_left := v_left - v_taken;
            end if;
            if v_tokens is not null then
                update job_limits l set tokens = v_tokens - v_taken, refilled_at = v_key_now
                where l.key = v_lim.key;
                if v_tokens - v_taken < 1 then
                    v_wake := least(v_wake, v_key_now + (1 - (v_tokens - v_taken)) / v_lim.rate_per_second
                                                    * interval '1 second');
                end if;
            end if;
        end loop;
    end if;

    if v_left > 0 then
        return query
        with picked as (
            select j.id from jobs j
            where j.queue = p_queue and j.state in ('available', 'retrying') and j.limit_key is null
              and j.run_at <= v_now
            order by j.priority, j.run_at, j.id
            limit v_left
            for update skip locked
        )
        update jobs j set state = 'running', attempt = j.attempt + 1, fence = j.fence + 1,
                          leased_by = p_worker, lease_expires_at = v_lease, started_at = v_now
        from picked where j.id = picked.id
        returning j.id, j.kind, j.organization_id, j.payload, j.attempt, j.max_attempts,
                  j.fence, j.limit_key, j.run_at, j.started_at, null::timestamptz;
    end if;

    if v_wake is not null then
        return query select null::bigint, null::text, null::uuid, null::jsonb, null::integer,
                            null::integer, null::integer, null::text, null::timestamptz,
                            null::timestamptz, v_wake;
    end if;
end $$;

-- Completes (deletes) the jobs whose (id, fence) still hold their lease, with their checkpoints,
-- and counts them. Returns the ids completed; the others' leases had moved on.
create function jobs_complete(p_worker uuid, p_ids bigint[], p_fences integer[])
returns setof bigint
language plpgsql
as $$
#variable_conflict use_column
begin
    perform set_config('synchronous_commit', 'off', true);
    return query
    with done as (
        delete from jobs j using unnest(p_ids, p_fences) as d(id, fence)
        where j.id = d.id and j.fence = d.fence and j.state = 'running'
        returning j.id, j.queue
    ), checkpoints as (
        delete from job_checkpoints c using done where c.job_id = done.id
    ), counts as (
        insert into job_stats as s (bucket, queue, worker, completed)
        select date_trunc('minute', clock_timestamp()), done.queue, p_worker, count(*)
        from done group by done.queue
        on conflict on constraint job_stats_pkey do update set completed = s.completed + excluded.completed
    )
    select done.id from done;
end $$;

-- Records failed attempts of leased jobs: each goes back to 'retrying' at its retry time, or to
-- 'dead' when p_retry_at is NULL (out of attempts or fatal), keeping the error. Fenced like
-- completion. Returns (id, state) of the jobs updated.
create function jobs_fail(p_worker uuid, p_ids bigint[], p_fences integer[], p_errors text[],
                          p_retry_at timestamptz[])
returns table (id bigint, queue text, state text)
language plpgsql
as $$
#variable_conflict use_column
begin
    perform set_config('synchronous_commit', 'off', true);
    return query
    with failed as (
        update jobs j set
            state = case when f.retry_at is null then 'dead' else 'retrying' end,
            run_at = coalesce(f.retry_at, j.run_at),
            last_error = f.error,
            leased_by = null,
            lease_expires_at = null,
            finished_at = case when f.retry_at is null then clock_timestamp() end
        from unnest(p_ids, p_fences, p_errors, p_retry_at) as f(id, fence, error, retry_at)
        where j.id = f.id and j.fence = f.fence and j.state = 'running'
        returning j.id, j.queue, j.state
    ), counts as (
        insert into job_stats as s (bucket, queue, worker, failed, dead)
        select date_trunc('minute', clock_timestamp()), failed.queue, p_worker,
               count(*), count(*) filter (where failed.state = 'dead')
        from failed group by failed.queue
        on conflict on constraint job_stats_pkey do update
            set failed = s.failed + excluded.failed, dead = s.dead + excluded.dead
    )
    select failed.id, failed.queue, failed.state from failed;
end $$;

-- Extends the leases that (id, fence) still hold; returns the ids still held.
create function jobs_heartbeat(p_ids bigint[], p_fences integer[], p_lease_ms integer)
returns setof bigint
language plpgsql
as $$
#variable_conflict use_column
begin
    perform set_config('synchronous_commit', 'off', true);
    return query
    update jobs j set lease_expires_at = clock_timestamp() + p_lease_ms * interval '1 millisecond'
    from unnest(p_ids, p_fences) as h(id, fence)
    where j.id = h.id and j.fence = h.fence and j.state = 'running'
    returning j.id;
end $$;

-- Gives leased jobs back without counting the attempt (graceful shutdown). Returns their ids.
create function jobs_release(p_ids bigint[], p_fences integer[])
returns table (id bigint, queue text)
language plpgsql
as $$
#variable_conflict use_column
begin
    return query
    update jobs j set state = case when j.attempt > 1 then 'retrying' else 'available' end,
                      attempt = j.attempt - 1, run_at = clock_timestamp(),
                      leased_by = null, lease_expires_at = null
    from unnest(p_ids, p_fences) as r(id, fence)
    where j.id = r.id and j.fence = r.fence and j.state = 'running'
    returning j.id, j.queue;
end $$;

-- Takes back jobs whose lease expired (their worker died, froze or lost its connection): each
-- becomes 'retrying', or 'dead' if that was its last attempt. It may run again after 1 s, 2 s,
-- 4 s … (at most 5 min) by its attempt count, so a job that kills its worker (a poison pill that
-- runs out of memory) cannot take down every worker in a row. Returns (id, queue, state).
create function jobs_rescue(p_worker uuid, p_max integer)
returns table (id bigint, queue text, state text)
language plpgsql
as $$
#variable_conflict use_column
begin
    return query
    with expired as (
        select j.id from jobs j
        where j.state = 'running' and j.lease_expires_at < clock_timestamp()
        limit p_max
        for update skip locked
    ), rescued as (
        update jobs j set
            state = case when j.attempt >= j.max_attempts then 'dead' else 'retrying' end,
            run_at = clock_timestamp() + least(power(2, greatest(j.attempt - 1, 0)), 300) * interval '1 second',
            last_error = 'lease expired: the worker stopped renewing it (crash, kill, freeze or lost connection)',
            leased_by = null,
            lease_expires_at = null,
            finished_at = case when j.attempt >= j.max_attempts then clock_timestamp() end
        from expired where j.id = expired.id
        returning j.id, j.queue, j.state
    ), counts as (
        insert into job_stats as s (bucket, queue, worker, rescued, dead)
        select date_trunc('minute', clock_timestamp()), rescued.queue, p_worker,
               count(*), count(*) filter (where rescued.state = 'dead')
        from rescued group by rescued.queue
        on conflict on constraint job_stats_pkey do update
            set rescued = s.rescued + excluded.rescued, dead = s.dead + excluded.dead
    )
    select rescued.id, rescued.queue, rescued.state from rescued;
end $$;
