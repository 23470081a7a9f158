-- Requests to widen a report's sharing range (共有範囲の拡大). A holder on
-- the route asks; only the originating organisation may grant (seed 003:
-- 情報発信者の同意なく…). add_recipients and add_sectors are JSON arrays
-- (organisation ids, sector codes). A granted request changes the item;
-- the request stays as the record of the consent.
CREATE TABLE consent_requests (
    id                  INTEGER PRIMARY KEY,
    item_id             INTEGER NOT NULL REFERENCES items(id),
    case_id             INTEGER NOT NULL REFERENCES cases(id),
    requested_by_org    INTEGER NOT NULL REFERENCES organisations(id),
    requested_by_person INTEGER REFERENCES people(id),
    from_tlp            TEXT NOT NULL CHECK (from_tlp IN ('red', 'amber', 'green', 'white')),
    to_tlp              TEXT NOT NULL CHECK (to_tlp IN ('red', 'amber', 'green', 'white')),
    add_recipients      TEXT NOT NULL DEFAULT '[]',
    add_sectors         TEXT NOT NULL DEFAULT '[]',
    reason              TEXT NOT NULL,
    status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'granted', 'refused', 'withdrawn')),
    answered_by_person  INTEGER REFERENCES people(id),
    answer_note         TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMP NOT NULL,
    answered_at         TIMESTAMP
);
CREATE INDEX consent_requests_case ON consent_requests(case_id, id);
-- One open request per item and requesting organisation: a second one is a
-- conflict, even from two servers at once.
CREATE UNIQUE INDEX consent_requests_pending ON consent_requests(item_id, requested_by_org) WHERE status = 'pending';
