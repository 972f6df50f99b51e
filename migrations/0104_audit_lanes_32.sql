-- Up to 32 audit chain lanes per organization instead of 8 (0101). A transaction waits for a
-- lane only when every lane's head is held; with eight, a firm's busy moment (more than eight of
-- its audited transactions committing at once — one process's pool holds 32 connections) made
-- the ninth wait for a commit to finish: under the workflow bench at 500 completions/s, one
-- commit in twelve waited 11 ms on average. Lanes are opened as needed, so a quiet firm keeps
-- one or two; existing entries keep their lane and hashes.
alter table audit_chain_heads drop constraint audit_chain_heads_lane_check;
alter table audit_chain_heads add constraint audit_chain_heads_lane_check check (lane between 0 and 31);
alter table audit_log drop constraint audit_log_lane_check;
alter table audit_log add constraint audit_log_lane_check check (lane between 0 and 31);
