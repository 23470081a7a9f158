-- 情報提供: advisories from NISC, their versions (第N報), source cases, the
-- cascade of deliveries down every chain with acknowledgements (受領確認),
-- single-use acknowledgement links, inquiries (問合せ) and feedback.

CREATE TABLE advisory_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE advisories (
    id              INTEGER PRIMARY KEY,
    item_id         INTEGER NOT NULL UNIQUE REFERENCES items(id),
    advisory_number TEXT UNIQUE,
    number_year     INTEGER,
    number_seq      INTEGER,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    issuer_org_id   INTEGER NOT NULL REFERENCES organisations(id),
    published_at    TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX advisories_published ON advisories(published_at, id);

CREATE TABLE advisory_versions (
    id            INTEGER PRIMARY KEY,
    advisory_id   INTEGER NOT NULL REFERENCES advisories(id),
    report_number INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    author_id     INTEGER REFERENCES people(id),
    form          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    published_at  TIMESTAMP,
    UNIQUE (advisory_id, report_number)
);

CREATE TABLE advisory_sources (
    advisory_id INTEGER NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    case_id     INTEGER NOT NULL REFERENCES cases(id),
    PRIMARY KEY (advisory_id, case_id)
);

CREATE TABLE advisory_deliveries (
    id              INTEGER PRIMARY KEY,
    advisory_id     INTEGER NOT NULL REFERENCES advisories(id),
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    stage           TEXT NOT NULL CHECK (stage IN ('ministry', 'ceptoar', 'operator')),
    from_org_id     INTEGER NOT NULL REFERENCES organisations(id),
    tlp             TEXT NOT NULL,
    delivered_at    TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by INTEGER REFERENCES people(id),
    ack_via         TEXT NOT NULL DEFAULT '',
    reminded_at     TIMESTAMP,
    UNIQUE (advisory_id, org_id)
);
CREATE INDEX advisory_deliveries_org ON advisory_deliveries(org_id, advisory_id);
CREATE INDEX advisory_deliveries_silent ON advisory_deliveries(acknowledged_at, reminded_at, delivered_at);

-- An acknowledgement link sent by e-mail: signed, single use, expiring.
CREATE TABLE ack_links (
    nonce       TEXT PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES advisory_deliveries(id),
    person_id   INTEGER NOT NULL REFERENCES people(id),
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);

-- Inquiries: one thread per advisory and ministry.
CREATE TABLE advisory_messages (
    id          INTEGER PRIMARY KEY,
    advisory_id INTEGER NOT NULL REFERENCES advisories(id),
    ministry_id INTEGER NOT NULL REFERENCES organisations(id),
    from_org_id INTEGER NOT NULL REFERENCES organisations(id),
    person_id   INTEGER NOT NULL REFERENCES people(id),
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX advisory_messages_thread ON advisory_messages(advisory_id, ministry_id, id);

CREATE TABLE advisory_feedback (
    advisory_id INTEGER NOT NULL REFERENCES advisories(id),
    org_id      INTEGER NOT NULL REFERENCES organisations(id),
    person_id   INTEGER NOT NULL REFERENCES people(id),
    answer      TEXT NOT NULL CHECK (answer IN ('useful', 'already_known', 'seen_here', 'not_applicable')),
    comment     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (advisory_id, org_id)
);
