-- The advisor marketplace: fractional-CFO profiles, their public listing, reviews, needs
-- assessments and matches.
--
-- Two kinds of data live here:
-- * Tenant data, under forced row-level security: `advisor_profiles` (owned by the advisor's
--   organization, drafts included), `needs_assessments` and `advisor_matches` (owned by the
--   client's organization; a match is also visible to the advisor's organization).
-- * Public data, by design (DESIGN.md §4): `marketplace_listings` — the searchable projection of
--   *active* profiles, kept by triggers — and `marketplace_reviews`. Listings are read by anyone
--   and written only by the definer trigger, so search runs on a table without row-level
--   security and every index (GIN on arrays, full text, trigrams) serves it.

-- Profiles -------------------------------------------------------------------------------------

create table advisor_profiles (
    id                 uuid primary key,
    organization_id    uuid not null references organizations (id) on delete cascade,
    user_id            uuid not null references users (id) on delete cascade,
    display_name       text not null check (length(display_name) between 1 and 200),
    title              text not null check (length(title) between 1 and 200),
    headline           text check (length(headline) <= 300),
    bio                text check (length(bio) <= 10000),
    years_experience   integer not null default 0 check (years_experience between 0 and 70),
    certifications     text[] not null default '{}',
    industries         text[] not null default '{}',
    services           text[] not null default '{}',
    business_sizes     text[] not null default '{}',
    languages          text[] not null default '{en}',
    timezone           text check (length(timezone) <= 64),
    remote_only        boolean not null default false,
    hourly_rate        numeric(10, 2) check (hourly_rate >= 0),
    retainer_min       numeric(12, 2) check (retainer_min >= 0),
    retainer_max       numeric(12, 2) check (retainer_max >= retainer_min),
    project_rate_min   numeric(12, 2) check (project_rate_min >= 0),
    pricing_models     text[] not null default '{}',
    max_clients        integer not null default 15 check (max_clients between 1 and 500),
    current_clients    integer not null default 0 check (current_clients >= 0),
    is_available       boolean not null default true,
    -- pending (new or edited after rejection) → under_review → active | rejected; active ⇄ suspended.
    status             text not null default 'pending'
                           check (status in ('pending', 'under_review', 'active', 'rejected', 'suspended')),
    status_reason      text check (length(status_reason) <= 1000),
    verified_at        timestamptz,
    verified_by        uuid,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    unique (user_id)
);
select enable_tenancy('advisor_profiles');
-- Platform administrators review every organization's profiles; their transactions carry
-- app.platform_admin (set only after the permission check, see store::TenantTx::begin_platform).
create policy platform_admin on advisor_profiles
    using (current_setting('app.platform_admin', true) = 'on')
    with check (current_setting('app.platform_admin', true) = 'on');
-- Nobody moves a profile to another organization or user, platform administrators included.
revoke update on advisor_profiles from countinghouse_app;
grant update (display_name, title, headline, bio, years_experience, certifications, industries, services,
    business_sizes, languages, timezone, remote_only, hourly_rate, retainer_min, retainer_max, project_rate_min,
    pricing_models, max_clients, current_clients, is_available, status, status_reason, verified_at, verified_by,
    updated_at)
    on advisor_profiles to countinghouse_app;
create index advisor_profiles_review_queue on advisor_profiles (status, updated_at) where status = 'under_review';
create trigger advisor_profiles_updated_at before update on advisor_profiles
    for each row execute function set_updated_at();

-- Reviews: public when published, written by the reviewer's organization --------------------

create table marketplace_reviews (
    id                         uuid primary key,
    advisor_id                 uuid not null references advisor_profiles (id) on delete cascade,
    -- The client organization whose finished engagement this reviews (one review per match).
    reviewer_organization_id   uuid not null references organizations (id) on delete cascade,
    match_id                   uuid not null unique,
    overall                    smallint not null check (overall between 1 and 10),
    communication              smallint check (communication between 1 and 10),
    responsiveness             smallint check (responsiveness between 1 and 10),
    expertise                  smallint check (expertise between 1 and 10),
    value                      smallint check (value between 1 and 10),
    professionalism            smallint check (professionalism between 1 and 10),
    testimonial                text check (length(testimonial) <= 5000),
    is_published               boolean not null default false,
    created_at                 timestamptz not null default now()
);
-- Enabled, not forced: the definer triggers (run as the owner) aggregate ratings across reviewers.
alter table marketplace_reviews enable row level security;
create policy public_or_own on marketplace_reviews for select
    using (is_published or reviewer_organization_id = (select app_current_org()));
create policy own_insert on marketplace_reviews for insert
    with check (reviewer_organization_id = (select app_current_org()));
-- A review is written once and not edited (no update or delete grant).
grant select, insert on marketplace_reviews to countinghouse_app;
create index marketplace_reviews_advisor on marketplace_reviews (advisor_id, created_at desc) where is_published;

-- The public listing -----------------------------------------------------------------------------

create table marketplace_listings (
    advisor_id         uuid primary key references advisor_profiles (id) on delete cascade,
    -- Whose advisor this is: matches are shared with this organization. Never shown publicly.
    advisor_organization_id uuid not null,
    display_name       text not null,
    title              text not null,
    headline           text,
    bio                text,
    years_experience   integer not null,
    certifications     text[] not null,
    industries         text[] not null,
    services           text[] not null,
    business_sizes     text[] not null,
    languages          text[] not null,
    timezone           text,
    remote_only        boolean not null,
    hourly_rate        numeric(10, 2),
    retainer_min       numeric(12, 2),
    retainer_max       numeric(12, 2),
    project_rate_min   numeric(12, 2),
    pricing_models     text[] not null,
    max_clients        integer not null,
    current_clients    integer not null,
    is_available       boolean not null,
    available_now      boolean generated always as (is_available and current_clients < max_clients) stored,
    -- 0–5 (the mean of published reviews' overall score out of 10, halved), and their count.
    rating             numeric(3, 2) not null default 0,
    review_count       integer not null default 0,
    -- When the profile was approved: "recently joined" and the `newest` sort.
    listed_at          timestamptz not null,
    search             tsvector generated always as (
        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english', coalesce(headline, '')), 'B') ||
        setweight(to_tsvector('english', coalesce(bio, '')), 'C')
    ) stored
);
grant select on marketplace_listings to countinghouse_app;
-- One index per sort (the listing stops at LIMIT); GIN for array filters; text search; trigrams.
create index listings_by_rating on marketplace_listings (rating desc, review_count desc, advisor_id);
create index listings_by_reviews on marketplace_listings (review_count desc, advisor_id);
create index listings_by_experience on marketplace_listings (years_experience desc, advisor_id);
create index listings_by_price on marketplace_listings (hourly_rate, advisor_id) where hourly_rate is not null;
create index listings_by_newest on marketplace_listings (listed_at desc, advisor_id);
create index listings_available_by_rating on marketplace_listings (rating desc, review_count desc, advisor_id)
    where available_now;
create index listings_arrays on marketplace_listings
    using gin (industries, services, certifications, business_sizes, languages);
create index listings_search on marketplace_listings using gin (search);
create index listings_title_trgm on marketplace_listings using gin (title gin_trgm_ops);

-- Keeps the listing equal to the active profile (and its rating equal to its published reviews).
create function sync_marketplace_listing() returns trigger
language plpgsql security definer set search_path = public, pg_temp
as $$
declare
    p advisor_profiles;
begin
    if tg_op = 'DELETE' then
        delete from marketplace_listings where advisor_id = old.id;
        return null;
    end if;
    p := new;
    if p.status <> 'active' then
        delete from marketplace_listings where advisor_id = p.id;
        return null;
    end if;
    insert into marketplace_listings (advisor_id, advisor_organization_id, display_name, title, headline, bio, years_experience,
        certifications, industries, services, business_sizes, languages, timezone, remote_only, hourly_rate,
        retainer_min, retainer_max, project_rate_min, pricing_models, max_clients, current_clients,
        is_available, rating, review_count, listed_at)
    select p.id, p.organization_id, p.display_name, p.title, p.headline, p.bio, p.years_experience, p.certifications, p.industries,
        p.services, p.business_sizes, p.languages, p.timezone, p.remote_only, p.hourly_rate, p.retainer_min,
        p.retainer_max, p.project_rate_min, p.pricing_models, p.max_clients, p.current_clients, p.is_available,
        coalesce(round(avg(r.overall) / 2.0, 2), 0), count(r.id), coalesce(p.verified_at, now())
    from (select 1) one left join marketplace_reviews r on r.advisor_id = p.id and r.is_published
    on conflict (advisor_id) do update set
        display_name = excluded.display_name, title = excluded.title, headline = excluded.headline,
        bio = excluded.bio, years_experience = excluded.years_experience,
        certifications = excluded.certifications, industries = excluded.industries,
        services = excluded.services, business_sizes = excluded.business_sizes, languages = excluded.languages,
        timezone = excluded.timezone, remote_only = excluded.remote_only, hourly_rate = excluded.hourly_rate,
        retainer_min = excluded.retainer_min, retainer_max = excluded.retainer_max,
        project_rate_min = excluded.project_rate_min, pricing_models = excluded.pricing_models,
        max_clients = excluded.max_clients, current_clients = excluded.current_clients,
        is_available = excluded.is_available, rating = excluded.rating, review_count = excluded.review_count;
    return null;
end $$;
create trigger advisor_profiles_listing after insert or update or delete on advisor_profiles
    for each row execute function sync_marketplace_listing();

create function sync_listing_rating() returns trigger
language plpgsql security definer set search_path = public, pg_temp
as $$
declare
    advisor uuid := coalesce(new.advisor_id, old.advisor_id);
begin
    update marketplace_listings l set
        rating = coalesce((select round(avg(overall) / 2.0, 2) from marketplace_reviews
                           where advisor_id = advisor and is_published), 0),
        review_count = (select count(*) from marketplace_reviews where advisor_id = advisor and is_published)
    where l.advisor_id = advisor;
    return null;
end $$;
create trigger marketplace_reviews_rating after insert or update or delete on marketplace_reviews
    for each row execute function sync_listing_rating();

-- Needs assessments and matches (the client organization's) -----------------------------------

create table needs_assessments (
    id                       uuid primary key,
    organization_id          uuid not null references organizations (id) on delete cascade,
    client_id                uuid references clients (id) on delete cascade,
    business_size            text not null check (business_size in ('startup', 'smb', 'mid_market', 'enterprise')),
    annual_revenue           numeric(16, 2) check (annual_revenue >= 0),
    industry                 text check (length(industry) <= 100),
    services_needed          text[] not null check (cardinality(services_needed) between 1 and 20),
    budget_type              text not null check (budget_type in ('hourly', 'monthly_retainer', 'project_based', 'flexible')),
    budget_min               numeric(12, 2) check (budget_min >= 0),
    budget_max               numeric(12, 2) check (budget_max >= budget_min),
    urgency                  text not null check (urgency in ('immediate', 'within_month', 'within_quarter', 'exploratory')),
    engagement_length        text not null check (engagement_length in ('short_term', 'long_term', 'project_based', 'ongoing')),
    required_certifications  text[] not null default '{}',
    min_years_experience     integer not null default 0 check (min_years_experience between 0 and 70),
    languages                text[] not null default '{}',
    remote_ok                boolean not null default true,
    created_by               uuid,
    created_at               timestamptz not null default now()
);
select enable_tenancy('needs_assessments');
create index needs_assessments_by_client on needs_assessments (organization_id, client_id, created_at desc);

create table advisor_matches (
    id                        uuid primary key,
    organization_id           uuid not null references organizations (id) on delete cascade,
    assessment_id             uuid not null references needs_assessments (id) on delete cascade,
    advisor_id                uuid not null references advisor_profiles (id) on delete cascade,
    -- The advisor's organization, so the advisor side sees and moves its matches.
    advisor_organization_id   uuid not null references organizations (id) on delete cascade,
    score                     numeric(5, 2) not null check (score between 0 and 100),
    -- Each component's points and the reason for them.
    breakdown                 jsonb not null,
    algorithm_version         text not null,
    rank                      integer not null,
    status                    text not null default 'suggested' check (status in ('suggested', 'viewed', 'contacted',
                                  'responded', 'call_scheduled', 'proposal', 'accepted', 'declined', 'expired')),
    status_changed_at         timestamptz not null default now(),
    expires_at                timestamptz not null,
    created_at                timestamptz not null default now(),
    unique (assessment_id, advisor_id)
);
select enable_tenancy('advisor_matches');
-- The advisor's organization sees a match once the client has made contact, and may move it
-- (never create or delete one). Only the status can change, for either side: the column grant
-- keeps both organizations and the score fixed, whatever a policy would allow.
create policy advisor_side_read on advisor_matches for select
    using (advisor_organization_id = (select app_current_org()) and status not in ('suggested', 'viewed'));
create policy advisor_side_move on advisor_matches for update
    using (advisor_organization_id = (select app_current_org()) and status not in ('suggested', 'viewed'))
    with check (advisor_organization_id = (select app_current_org()));
revoke update on advisor_matches from countinghouse_app;
grant update (status, status_changed_at) on advisor_matches to countinghouse_app;
create index advisor_matches_by_assessment on advisor_matches (organization_id, assessment_id, rank);
create index advisor_matches_by_advisor on advisor_matches (advisor_organization_id, advisor_id, created_at desc);
create index advisor_matches_expiring on advisor_matches (expires_at)
    where status not in ('accepted', 'declined', 'expired');

do $$
begin
    if (select rolsuper from pg_roles where rolname = current_user) then
        alter function pg_catalog.arraycontains(anyarray, anyarray) leakproof;
    end if;
end $$;

