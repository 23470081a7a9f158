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

-- Versions released (cases) or published (advisories) before this
-- migration get their job too, so every one is served over TAXII (the
-- worker stores them in turn).
INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at)
SELECT 'stix', '{"case_id":' || v.case_id || ',"version_id":' || v.id || '}', 'pending', 0, 12, v.submitted_at,
    'stix:version:' || v.id, v.submitted_at
FROM report_versions v WHERE v.released AND v.submitted_at IS NOT NULL;
INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at)
SELECT 'stix', '{"advisory_id":' || v.advisory_id || ',"version_id":' || v.id || '}', 'pending', 0, 12, v.published_at,
    'stix:advisory-version:' || v.id, v.published_at
FROM advisory_versions v WHERE v.status = 'published' AND v.published_at IS NOT NULL;
