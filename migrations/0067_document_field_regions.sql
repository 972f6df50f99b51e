-- Where on the page each extracted field's value was read, for the review screen's boxes:
-- {"page": 1, "x": 0.1, "y": 0.2, "width": 0.15, "height": 0.02}, the page 1-based and the box
-- in fractions of the page's width and height (top-left origin), so it fits any rendering of
-- the page. Null for fields read without a box (older documents, a reviewer's added field).
-- A correction keeps the box: the value moved, not where it was read.
alter table document_fields add column region jsonb check (
    region is null or (
        jsonb_typeof(region) = 'object'
        and (region->>'page')::int >= 1
        and (region->>'x')::real between 0 and 1
        and (region->>'y')::real between 0 and 1
        and (region->>'width')::real between 0 and 1
        and (region->>'height')::real between 0 and 1
    )
);
