-- Full-text search over what a case has released: character bigrams and
-- words made by the search package, as an array under a GIN index (no
-- text-search parser touches them, so both databases match the same tokens).
CREATE TABLE case_search (
    case_id BIGINT PRIMARY KEY REFERENCES cases(id) ON DELETE CASCADE,
    tokens  TEXT[] NOT NULL
);
CREATE INDEX case_search_tokens ON case_search USING GIN (tokens);
