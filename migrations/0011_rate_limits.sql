-- Shared rate-limit state for `resilience::limiter` when Redis is absent or down: one GCRA
-- "theoretical arrival time" per key.
--
-- Global infrastructure, not tenant data: keys are built by the callers and carry the tenant
-- (e.g. `qbo:<organization>:<realm>`), and nothing else is stored. The app role reads and writes
-- the rows through rate_limit_take() and deletes idle ones; it creates nothing.

create unlogged table rate_limits (
    key  text primary key check (length(key) <= 300),
    -- The time at which the bucket would be empty again; NULL never (rows are created with it).
    tat  timestamptz not null
);
-- Unlogged: losing limiter state in a server crash only resets the buckets (briefly allowing a
-- burst), and it spares every limited call a WAL flush.
grant select, insert, update, delete on rate_limits to countinghouse_app;

-- Generic cell rate algorithm: one emission every p_interval_us, up to p_burst at once.
-- Returns 0 when the call may proceed (and records it), else how many microseconds to wait.
create function rate_limit_take(p_key text, p_interval_us bigint, p_burst integer) returns bigint
language plpgsql
as $$
declare
    v_now     timestamptz := clock_timestamp();
    v_tat     timestamptz;
    v_allow   timestamptz;
    v_tau     interval := (p_burst - 1) * p_interval_us * interval '1 microsecond';
    v_step    interval := p_interval_us * interval '1 microsecond';
begin
    insert into rate_limits (key, tat) values (p_key, v_now)
    on conflict (key) do update set tat = rate_limits.tat
    returning rate_limits.tat into v_tat;
    v_tat := greatest(v_tat, v_now);
    v_allow := v_tat - v_tau;
    if v_allow > v_now then
        return ceil(extract(epoch from v_allow - v_now) * 1000000)::bigint;
    end if;
    update rate_limits set tat = v_tat + v_step where key = p_key;
    return 0;
end $$;
