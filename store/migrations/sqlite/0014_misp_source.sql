-- MISP events are stored as the STIX objects they map to; their import
-- records say so with source 'misp'. SQLite cannot change a CHECK, so the
-- table is rebuilt with the same rows.
CREATE TABLE stix_imports_new (
    item_id    INTEGER PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    bundle_id  TEXT NOT NULL,
    person_id  INTEGER REFERENCES people(id),
    source     TEXT NOT NULL CHECK (source IN ('api', 'cli', 'ui', 'taxii', 'misp')),
    account    TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO stix_imports_new (item_id, bundle_id, person_id, source, account, created_at)
    SELECT item_id, bundle_id, person_id, source, account, created_at FROM stix_imports;
DROP TABLE stix_imports;
ALTER TABLE stix_imports_new RENAME TO stix_imports;
CREATE INDEX stix_imports_bundle ON stix_imports(bundle_id);
