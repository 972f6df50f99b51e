-- The firm's upload batches, newest first (`GET /v1/document-batches`); unfinished ones are few,
-- so the `unfinished` filter reads them from a partial index.
create index document_batches_newest on document_batches (organization_id, created_at desc, id desc);
create index document_batches_unfinished on document_batches (organization_id, created_at desc, id desc)
    where finished_at is null;
