-- STIX 2.1 objects received from elsewhere (kyoyu import, the API, later
-- TAXII). Each imported bundle is one item of kind 'report' — shared
-- information like a report — shared at once under the range its markings
-- give, so policy.Where governs every read of its objects. The json column
-- is the object as received (compact); created and modified are version
-- keys (fixed-width UTC, so they order as times; '' where the object has
-- none, as cyber observables). An object arriving in two bundles is kept
-- in each, under each one's range: one table-wide copy would tell an
-- importer that someone else holds it under a range it may not see.
CREATE TABLE stix_objects (
    item_id      BIGINT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    stix_id      TEXT NOT NULL,
    type         TEXT NOT NULL,
    spec_version TEXT NOT NULL,
    created      TEXT NOT NULL DEFAULT '',
    modified     TEXT NOT NULL DEFAULT '',
    json         TEXT NOT NULL,
    date_added   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (stix_id, modified, item_id)
);
-- TAXII pages by date added; filters by type and id.
CREATE INDEX stix_objects_added ON stix_objects(date_added, stix_id, modified, item_id);
CREATE INDEX stix_objects_type ON stix_objects(type, date_added);
CREATE INDEX stix_objects_item ON stix_objects(item_id);

-- One row per imported bundle: who brought it, how, and the account of
-- what was stored and skipped (JSON), which a TAXII status resource reads.
CREATE TABLE stix_imports (
    item_id    BIGINT PRIMARY KEY REFERENCES items(id) ON DELETE CASCADE,
    bundle_id  TEXT NOT NULL,
    person_id  BIGINT REFERENCES people(id),
    source     TEXT NOT NULL CHECK (source IN ('api', 'cli', 'ui', 'taxii')),
    account    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX stix_imports_bundle ON stix_imports(bundle_id);
