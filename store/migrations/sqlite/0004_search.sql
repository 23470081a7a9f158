-- Full-text search over what a case has released: character bigrams and
-- words made by the search package, in FTS5 (rowid = case id).
CREATE VIRTUAL TABLE case_fts USING fts5(tokens, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 0');
