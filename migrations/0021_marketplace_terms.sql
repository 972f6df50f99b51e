-- Typo-tolerant marketplace search through a vocabulary of the listings' words.
--
-- A trigram match of the raw query against titles (0020) only forgave typos in titles, and a
-- misspelling of a common title word matched a fifth of the marketplace, so the planner rightly
-- scanned the whole table. Instead, each query word is corrected to the nearest word the listings
-- actually use (a trigram search of a table of a few thousand words), and the corrected query
-- runs on the full-text index like any other: typos are forgiven in titles, headlines and bios.
--
-- The vocabulary holds the stems of `marketplace_listings.search`. It is public like the listings
-- (no tenant data: words of published profiles) and only grows; a word no listing uses any more
-- corrects to a query that finds nothing, as the misspelling would have.

create table marketplace_terms (
    term text primary key
);
create index marketplace_terms_trgm on marketplace_terms using gin (term gin_trgm_ops);
grant select on marketplace_terms to countinghouse_app;

-- Words of one to forty letters or digits: tsquery syntax and trigrams need nothing else.
create function add_marketplace_terms() returns trigger
language plpgsql security definer set search_path = public, pg_temp
as $$
begin
    insert into marketplace_terms (term)
    select lexeme from unnest(new.search) where lexeme ~ '^[[:alnum:]]{1,40}$'
    on conflict do nothing;
    return null;
end $$;
create trigger marketplace_listings_terms after insert or update of title, headline, bio on marketplace_listings
    for each row execute function add_marketplace_terms();

insert into marketplace_terms (term)
select distinct lexeme from marketplace_listings, unnest(search) where lexeme ~ '^[[:alnum:]]{1,40}$'
on conflict do nothing;

-- The query whose words are each replaced by the most similar vocabulary word (after stemming, so
-- "acountant" meets "account"), as prefixes; stop words drop out. Null when nothing is left.
create function marketplace_corrected_query(words text[]) returns tsquery
language sql stable parallel safe set search_path = public, pg_temp
as $$
    select to_tsquery('simple', string_agg(quote_literal(coalesce(
               (select t.term from marketplace_terms t
                where t.term % s.lexeme
                order by similarity(t.term, s.lexeme) desc, t.term
                limit 1),
               s.lexeme)) || ':*', ' & '))
    from unnest(words) w, unnest(to_tsvector('english', w)) s
$$;

-- Titles are no longer searched by trigrams.
drop index listings_title_trgm;
