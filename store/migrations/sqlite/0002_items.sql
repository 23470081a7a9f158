-- Every shareable thing (a case, an advisory) has one row in items, which
-- carries what the sharing-range rule reads; policy.Where filters on it in
-- the query. item_orgs holds each organisation's relation to an item
-- (holder on the route, named recipient, analysis partner, excluded,
-- recipient ministry, source), item_sectors the concerned sectors.
CREATE TABLE items (
    id                INTEGER PRIMARY KEY,
    kind              TEXT NOT NULL CHECK (kind IN ('report', 'advisory')),
    tlp               TEXT NOT NULL CHECK (tlp IN ('red', 'amber', 'green', 'white')),
    originator_org_id INTEGER NOT NULL REFERENCES organisations(id),
    shared            BOOLEAN NOT NULL DEFAULT FALSE,
    anonymised        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE INDEX items_originator ON items(originator_org_id);
CREATE INDEX items_kind_tlp ON items(kind, tlp, shared);

CREATE TABLE item_orgs (
    item_id  INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    org_id   INTEGER NOT NULL REFERENCES organisations(id),
    relation TEXT NOT NULL CHECK (relation IN ('holder', 'recipient', 'partner', 'excluded', 'recipient_ministry', 'source')),
    PRIMARY KEY (item_id, relation, org_id)
);
CREATE INDEX item_orgs_org ON item_orgs(org_id, relation, item_id);

CREATE TABLE item_sectors (
    item_id     INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    sector_code TEXT NOT NULL REFERENCES sectors(code),
    PRIMARY KEY (item_id, sector_code)
);
CREATE INDEX item_sectors_sector ON item_sectors(sector_code, item_id);
