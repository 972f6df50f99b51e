-- Password resets: a single-use link mailed to a member who forgot their password (or created for
-- them by a member admin). Like sessions and invitations, the token itself is never stored: the
-- row keeps sha256(token), and the token names its organization so the lookup opens that tenant.
-- A reset lives one hour; completing one marks every open reset of the same user used.
create table password_resets (
    id                uuid primary key,
    organization_id   uuid not null references organizations (id) on delete cascade,
    user_id           uuid not null references users (id) on delete cascade,
    token_hash        bytea not null unique,
    -- The member admin who created the link; null when the member asked for it themselves.
    requested_by      uuid references users (id) on delete set null,
    created_at        timestamptz not null default now(),
    expires_at        timestamptz not null,
    used_at           timestamptz
);
select enable_tenancy('password_resets');
create index password_resets_org_user on password_resets (organization_id, user_id)
    where used_at is null;
