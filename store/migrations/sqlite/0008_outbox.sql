-- The outbox: side effects (e-mail, webhooks) are written as jobs in the
-- transaction that makes the change, and sent afterwards by a worker on any
-- server. A job holds references (a notification id, a webhook id), never
-- an item's content; what is sent is rendered when it is sent.
--   status: pending → running (claimed under a lease) → done | dead | dropped
--   dedupe_key: one job per effect ("email:notification:42"), so an effect
--   enqueued twice is stored once.
--   locked_until: the lease; a running job whose lease has passed is taken
--   over by another worker (its own worker died).
--   result: what the receiver answered (the SMTP server's queue id, the
--   HTTP status), or why a job was dropped.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
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
CREATE INDEX jobs_due ON jobs(run_at) WHERE status IN ('pending', 'running');

-- Webhook endpoints of an organisation: each notification to its people
-- is also POSTed, signed with the endpoint's secret (or the server's
-- --webhook-secret when the row has none), to every active endpoint.
CREATE TABLE org_webhooks (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, url)
);
