-- Structured e-invoices (Factur-X/ZUGFeRD, XRechnung, UBL/Peppol): a bare XML e-invoice is a
-- file kind of its own, and each field records where its value came from, so review shows an
-- exact value from the XML apart from one read off the page.

-- The unnamed check of 0030 took Postgres's default name.
alter table documents drop constraint documents_kind_check;
alter table documents add constraint documents_kind_check
    check (kind in ('pdf', 'png', 'jpeg', 'tiff', 'docx', 'xlsx', 'csv', 'xml'));

-- e_invoice: the XML (embedded in the PDF or uploaded alone); text_layer / ocr: read off the
-- page; provider: a provider's prebuilt model; reviewer: added in review. Null for fields saved
-- before sources were kept. A correction keeps the source: `corrected_by` says it was changed.
alter table document_fields add column source text check (
    source in ('e_invoice', 'text_layer', 'ocr', 'provider', 'reviewer')
);
