-- Document blobs are encrypted at rest (envelope encryption): each organization has one data key
-- (AES-256-GCM) that encrypts its blob files; the key is kept here sealed by the active master
-- key of the key ring (`vault`), bound to the organization as associated data. Rotating the
-- master key re-seals these rows (`countinghouse keys reseal`); blob files are never rewritten.
create table blob_data_keys (
    organization_id   uuid primary key references organizations (id) on delete cascade,
    -- `vault::KeyRing::seal` of the 32 key bytes: master key id ‖ nonce ‖ ciphertext+tag.
    sealed            bytea not null,
    -- Which master key sealed it (the first two bytes of `sealed`), for rotation reports.
    master_key_id     integer not null,
    created_at        timestamptz not null default now(),
    resealed_at       timestamptz
);
select enable_tenancy('blob_data_keys');
