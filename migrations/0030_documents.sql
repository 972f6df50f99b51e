-- Documents a firm receives (uploads by staff and by client-portal users), the fields the pipeline
-- extracted from them, and their status events. The file itself lives in the content-addressed
-- blob store (<root>/<organization>/<sha256>), written and fsynced before the row commits; the
-- pipeline runs on the job queue (`documents.process`), enqueued in the same transaction as the row,
-- and checkpoints its steps in `job_checkpoints`, so no table of our own is needed for that.

create table documents (
    id                  uuid primary key,
    organization_id     uuid not null references organizations (id) on delete cascade,
    client_id           uuid not null references clients (id) on delete cascade,
    file_name           text not null check (length(file_name) between 1 and 255),
    -- What the bytes are (sniffed, not taken from the name).
    kind                text not null check (kind in ('pdf', 'png', 'jpeg', 'tiff', 'docx', 'xlsx', 'csv')),
    content_sha256      bytea not null check (length(content_sha256) = 32),
    size_bytes          bigint not null check (size_bytes > 0),
    pages               integer not null check (pages >= 0),
    -- uploaded → processing → needs_review | approved; stored (not OCR'd: docx/xlsx/csv);
    -- duplicate (same content as `duplicate_of`, not processed again); failed (the pipeline gave up).
    status              text not null default 'uploaded' check (status in ('uploaded', 'processing',
                            'needs_review', 'approved', 'stored', 'duplicate', 'failed')),
    -- A category given at upload (trusted unless the text clearly says otherwise).
    category_hint       text check (category_hint in ('w2', '1099_nec', '1099_misc', 'invoice', 'receipt',
                            'bank_statement', 'tax_return_1040', 'general')),
    doc_type            text check (doc_type in ('w2', '1099_nec', '1099_misc', 'invoice', 'receipt',
                            'bank_statement', 'tax_return_1040', 'general')),
    type_confidence     real check (type_confidence between 0 and 1),
    document_confidence real check (document_confidence between 0 and 1),
    needs_review        boolean not null default false,
    -- [{code, field, message}] from validation.
    review_reasons      jsonb not null default '[]',
    -- Per-step wall times in milliseconds, and the pipeline's last error.
    step_timings        jsonb not null default '{}',
    error               text check (length(error) <= 2000),
    -- Versions: a new upload of the same document points at the one it replaces.
    previous_version_id uuid references documents (id) on delete set null,
    version             integer not null default 1 check (version >= 1),
    duplicate_of        uuid references documents (id) on delete set null,
    -- The text the pipeline read (text layer or OCR), for search.
    extracted_text      text,
    search              tsvector generated always as (
        setweight(to_tsvector('simple', file_name), 'A') ||
        setweight(to_tsvector('simple', coalesce(extracted_text, '')), 'B')
    ) stored,
    uploaded_by         uuid references users (id) on delete set null,
    approved_by         uuid references users (id) on delete set null,
    approved_at         timestamptz,
    processed_at        timestamptz,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    deleted_at          timestamptz,
    check (status <> 'duplicate' or duplicate_of is not null)
);
select enable_tenancy('documents');
create trigger documents_updated_at before update on documents for each row execute function set_updated_at();
-- A client's documents, newest first (the list view), with its status/type/review filters.
create index documents_by_client on documents (organization_id, client_id, created_at desc, id desc)
    where deleted_at is null;
create index documents_by_status on documents (organization_id, status, created_at desc, id desc)
    where deleted_at is null;
-- The review queue, oldest first.
create index documents_review_queue on documents (organization_id, created_at, id)
    where needs_review and deleted_at is null;
-- Duplicate detection: the original holder of some content within a firm.
create index documents_by_content on documents (organization_id, content_sha256) where deleted_at is null;
create index documents_search on documents using gin (organization_id, search) where deleted_at is null;

create table document_fields (
    organization_id  uuid not null references organizations (id) on delete cascade,
    document_id      uuid not null references documents (id) on delete cascade,
    -- The field's key in the type's schema (`box1_wages`, `line_items.0.amount`, ...).
    key              text not null check (length(key) between 1 and 200),
    -- The typed value ({"money": "12.34"}, {"text": ...}); null when masked at rest.
    value            jsonb,
    -- The value as shown; for sensitive fields (SSNs, TINs) only the masked form is stored.
    display          text not null check (length(display) <= 2000),
    masked           boolean not null default false,
    confidence       real not null check (confidence between 0 and 1),
    -- Byte range in `documents.extracted_text` the value was read from.
    span_start       integer check (span_start >= 0),
    span_end         integer check (span_end >= span_start),
    corrected_by     uuid references users (id) on delete set null,
    corrected_at     timestamptz,
    primary key (document_id, key)
);
select enable_tenancy('document_fields');
create index document_fields_org on document_fields (organization_id, document_id);

-- Status changes and pipeline milestones, for the real-time layer and notifications.
create table document_events (
    id               bigint generated always as identity primary key,
    organization_id  uuid not null references organizations (id) on delete cascade,
    document_id      uuid not null references documents (id) on delete cascade,
    event            text not null check (length(event) between 1 and 100),
    detail           jsonb not null default '{}',
    created_at       timestamptz not null default now()
);
select enable_tenancy('document_events');
create index document_events_by_document on document_events (organization_id, document_id, id);
