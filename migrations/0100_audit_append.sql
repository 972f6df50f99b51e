-- Appending a transaction's audit entries to its organization's hash chain in one round trip.
--
-- The chain serialises an organization's writes: the head row is locked from the moment a
-- transaction reads it until that transaction commits. Reading the head, hashing in the
-- application and writing the entries took three round trips under that lock; this function
-- takes the lock and does the rest inside the server, so the lock is held for the function's own
-- work, one reply and the commit.
--
-- The application sends each entry's canonical form up to its sequence number (`"seq"` is the
-- last key of the canonical form, see `domain::audit`); the function numbers the entries after the
-- head and chains them: hash = sha256(prev_hash || canonical_prefix || seq || '}').
-- It runs with the caller's rights, so row-level security applies as to the statements it replaced.

create function audit_append(
    p_org uuid,
    p_genesis bytea,
    p_actor_kind text,
    p_actor_id uuid,
    p_request_id text,
    p_ip inet,
    p_ids uuid[],
    p_times timestamptz[],
    p_actions text[],
    p_entity_types text[],
    p_entity_ids text[],
    p_befores jsonb[],
    p_afters jsonb[],
    p_prefixes text[]
) returns bigint
language plpgsql
as $$
declare
    v_seq bigint;
    v_hash bytea;
    v_first bigint;
    v_prevs bytea[] := '{}';
    v_hashes bytea[] := '{}';
begin
    insert into audit_chain_heads (organization_id, last_seq, last_hash)
    values (p_org, 0, p_genesis)
    on conflict (organization_id) do update set last_seq = audit_chain_heads.last_seq
    returning last_seq, last_hash into v_seq, v_hash;
    v_first := v_seq + 1;
    for i in 1 .. coalesce(cardinality(p_ids), 0) loop
        v_prevs := array_append(v_prevs, v_hash);
        v_seq := v_seq + 1;
        v_hash := sha256(v_hash || convert_to(p_prefixes[i] || v_seq::text || '}', 'UTF8'));
        v_hashes := array_append(v_hashes, v_hash);
    end loop;
    insert into audit_log (organization_id, seq, id, occurred_at, actor_kind, actor_id, action,
        entity_type, entity_id, before, after, request_id, ip, prev_hash, hash)
    select p_org, v_first + e.n - 1, e.id, e.occurred_at, p_actor_kind, p_actor_id, e.action,
        e.entity_type, e.entity_id, e.before, e.after, p_request_id, p_ip, e.prev_hash, e.hash
    from unnest(p_ids, p_times, p_actions, p_entity_types, p_entity_ids, p_befores, p_afters,
                v_prevs, v_hashes)
         with ordinality as e(id, occurred_at, action, entity_type, entity_id, before, after,
                              prev_hash, hash, n);
    update audit_chain_heads set last_seq = v_seq, last_hash = v_hash where organization_id = p_org;
    return v_seq;
end
$$;
