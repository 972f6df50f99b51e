-- Upload batches and users' notifications.
--
-- Every upload request (files, or a zip) is one batch: who uploaded, to which client, how many
-- files were accepted and refused. When the last of its documents settles (approved, needs_review,
-- stored, duplicate, failed, or deleted before it was read) the batch is finished, once: the
-- pipeline's final transaction of that document locks the batch row, counts what is still pending
-- and, when nothing is, sets `finished_at`, writes a `batch_finished` event and a notification to
-- the uploader — all in that same transaction.

create table document_batches (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    client_id        uuid not null references clients (id) on delete cascade,
    uploaded_by      uuid references users (id) on delete set null,
    -- `files`: one or many files in one request; `zip`: the entries of one archive.
    source           text not null check (source in ('files', 'zip')),
    -- Files that became documents (duplicates included) and files refused at upload.
    accepted         integer not null check (accepted >= 1),
    rejected         integer not null default 0 check (rejected >= 0),
    finished_at      timestamptz,
    created_at       timestamptz not null default now()
);
select enable_tenancy('document_batches');

alter table documents add column batch_id uuid references document_batches (id) on delete set null;
-- A batch's documents by status: progress, and the "is anything still pending?" check.
create index documents_by_batch on documents (organization_id, batch_id, status) where batch_id is not null;

-- Batch events (`batch_finished`) share the documents' event stream, so the real-time layer reads
-- one table; such an event names its batch instead of a document.
alter table document_events
    add column batch_id uuid references document_batches (id) on delete cascade,
    alter column document_id drop not null,
    add constraint document_events_subject check (document_id is not null or batch_id is not null);
create index document_events_by_batch on document_events (organization_id, batch_id, id)
    where batch_id is not null;

-- What the system tells one user. Only its recipient reads it or marks it read.
create table notifications (
    id               uuid primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    user_id          uuid not null references users (id) on delete cascade,
    kind             text not null check (kind in ('document_batch_finished')),
    title            text not null check (length(title) between 1 and 300),
    body             text not null check (length(body) <= 2000),
    -- Machine-readable details (ids, counts, a link to the subject).
    payload          jsonb not null default '{}',
    -- What the notification is about (`document_batch:<id>`): a second notification of the same
    -- thing to the same user is refused here, whatever retries or races happen above.
    dedupe_key       text not null check (length(dedupe_key) between 1 and 200),
    created_at       timestamptz not null default now(),
    read_at          timestamptz,
    unique (organization_id, user_id, dedupe_key)
);
select enable_tenancy('notifications');
-- A user's notifications newest first, all or only the unread.
create index notifications_by_user on notifications (organization_id, user_id, created_at desc, id desc);
create index notifications_unread on notifications (organization_id, user_id, created_at desc, id desc)
    where read_at is null;
