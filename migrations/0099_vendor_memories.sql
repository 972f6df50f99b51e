-- Vendor memory: what a firm learnt from a person's corrections of one vendor's document (where
-- each corrected field sits, how the vendor's dates read, its name and currency), applied to the
-- vendor's next documents. One row per vendor and firm, stored under the strongest key it has: a
-- validated tax id, else the normalised vendor name, else a hash of the layout's fingerprint.
-- Learning and forgetting are audited (`vendor_memory.learn`, `vendor_memory.forget`).

create table vendor_memories (
    id                uuid primary key,
    organization_id   uuid not null references organizations (id) on delete cascade,
    key_kind          text not null check (key_kind in ('tax_id', 'name', 'layout')),
    key_value         text not null check (length(key_value) between 1 and 200),
    vendor_name       text check (length(vendor_name) <= 500),
    doc_type          text not null,
    -- documents::vendor_memory::VendorMemory as JSON.
    memory            jsonb not null,
    -- The document last learnt from (kept when it is deleted: what was learnt stays).
    learned_from      uuid references documents (id) on delete set null,
    corrections       integer not null default 0 check (corrections >= 0),
    times_applied     integer not null default 0 check (times_applied >= 0),
    created_by        uuid references users (id) on delete set null,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    unique (organization_id, key_kind, key_value)
);
select enable_tenancy('vendor_memories');
create trigger vendor_memories_updated_at before update on vendor_memories
    for each row execute function set_updated_at();
create index vendor_memories_learned_from on vendor_memories (organization_id, learned_from);
create index vendor_memories_by_type on vendor_memories (organization_id, doc_type, updated_at desc);

-- A field re-read with the vendor's memory says so.
alter table document_fields drop constraint document_fields_source_check;
alter table document_fields add constraint document_fields_source_check check (
    source in ('e_invoice', 'text_layer', 'ocr', 'provider', 'reviewer', 'vendor_memory')
);
