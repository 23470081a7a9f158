-- A third kind of job: "stix" writes the STIX export of a case version
-- just released (or of a follow-up) into stix_objects, for TAXII. It is
-- enqueued in the transaction of the release, so no release is left
-- without its objects. SQLite cannot change a CHECK: the table is rebuilt.
CREATE TABLE jobs_new (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'webhook', 'stix')),
    payload      TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead', 'dropped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts > 0),
    run_at       TIMESTAMP NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until TIMESTAMP,
    last_error   TEXT NOT NULL DEFAULT '',
    result       TEXT NOT NULL DEFAULT '',
    dedupe_key   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    done_at      TIMESTAMP
);
INSERT INTO jobs_new SELECT id, kind, payload, status, attempts, max_attempts, run_at, locked_by, locked_until,
    last_error, result, dedupe_key, created_at, done_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
-- The rebuild drops the table's indexes: these are all it had until now
-- (0008, as changed by 0012). A migration that changes them must come
-- after this one, or be repeated here.
CREATE INDEX jobs_due ON jobs(run_at, id) WHERE status IN ('pending', 'running');
CREATE INDEX jobs_running ON jobs(locked_until) WHERE status = 'running';

-- TAXII status resources: the outcome of one POST of objects to a
-- collection, which only the person who posted may read back.
CREATE TABLE taxii_statuses (
    id         TEXT PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id),
    item_id    INTEGER REFERENCES items(id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Versions released or published before this migration get their jobs
-- from the servers, a window at a time while the queue is short
-- (store.EnqueueMissingSTIX), not here: a national database holds over a
-- million, which would queue ahead of every e-mail.
