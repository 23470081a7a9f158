-- A third kind of job: "stix" writes the STIX export of a case version
-- just released (or of a follow-up) into stix_objects, for TAXII. It is
-- enqueued in the transaction of the release, so no release is left
-- without its objects.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check CHECK (kind IN ('email', 'webhook', 'stix'));

-- TAXII status resources: the outcome of one POST of objects to a
-- collection, which only the person who posted may read back.
CREATE TABLE taxii_statuses (
    id         TEXT PRIMARY KEY,
    person_id  BIGINT NOT NULL REFERENCES people(id),
    item_id    BIGINT REFERENCES items(id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Versions released or published before this migration get their jobs
-- from the servers, a window at a time while the queue is short
-- (store.EnqueueMissingSTIX), not here: a national database holds over a
-- million, which would queue ahead of every e-mail.
