-- 情報連絡: cases (事案), the versions of their reports (第N報) at each hop,
-- the per-year counter behind case numbers (識別番号), and in-app
-- notifications. Columns named after the form (DOMAIN.md).

CREATE TABLE case_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE cases (
    id                 INTEGER PRIMARY KEY,
    item_id            INTEGER NOT NULL UNIQUE REFERENCES items(id),
    case_number        TEXT UNIQUE,
    case_year          INTEGER,
    case_seq           INTEGER,
    route              TEXT NOT NULL CHECK (route IN ('ministry', 'ceptoar', 'ministry_origin')),
    status             TEXT NOT NULL,
    originator_org_id  INTEGER NOT NULL REFERENCES organisations(id),
    operator_org_id    INTEGER REFERENCES organisations(id),
    operator_name      TEXT NOT NULL DEFAULT '',
    operator_label     TEXT NOT NULL DEFAULT '',
    secretariat_org_id INTEGER REFERENCES organisations(id),
    ministry_org_id    INTEGER NOT NULL REFERENCES organisations(id),
    channel            TEXT NOT NULL DEFAULT 'web',
    taken_by           TEXT NOT NULL DEFAULT '',
    report_count       INTEGER NOT NULL DEFAULT 0,
    sector_code        TEXT NOT NULL DEFAULT '',
    importance         TEXT NOT NULL DEFAULT '',
    event_class        TEXT NOT NULL DEFAULT '',
    system_status      TEXT NOT NULL DEFAULT '',
    outlook            TEXT NOT NULL DEFAULT '',
    title              TEXT NOT NULL DEFAULT '',
    received_at        TIMESTAMP,
    last_report_at     TIMESTAMP,
    follow_up_due_at   TIMESTAMP,
    reminded_at        TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX cases_last_report ON cases(last_report_at, id);
CREATE INDEX cases_follow_up ON cases(follow_up_due_at);
CREATE INDEX cases_originator ON cases(originator_org_id);

-- Causes of the newest released report, for filtering.
CREATE TABLE case_causes (
    case_id INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    cause   TEXT NOT NULL,
    PRIMARY KEY (case_id, cause)
);
CREATE INDEX case_causes_cause ON case_causes(cause, case_id);

CREATE TABLE report_versions (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases(id),
    report_number INTEGER NOT NULL,
    revision      INTEGER NOT NULL,
    stage         TEXT NOT NULL CHECK (stage IN ('operator', 'ceptoar', 'ministry')),
    status        TEXT NOT NULL CHECK (status IN ('draft', 'submitted')),
    org_id        INTEGER NOT NULL REFERENCES organisations(id),
    author_id     INTEGER REFERENCES people(id), -- empty for imported or generated versions
    to_org_id     INTEGER REFERENCES organisations(id),
    released      BOOLEAN NOT NULL DEFAULT FALSE,
    source_only   BOOLEAN NOT NULL DEFAULT FALSE,
    tlp           TEXT NOT NULL DEFAULT '',
    form          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    submitted_at  TIMESTAMP,
    UNIQUE (case_id, revision)
);
CREATE INDEX report_versions_case ON report_versions(case_id, revision);
CREATE INDEX report_versions_to ON report_versions(to_org_id, status);

-- In-app notifications. A notification names an item, never its content,
-- and is shown only while its reader may still see that item.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    person_id  INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    item_id    INTEGER REFERENCES items(id),
    kind       TEXT NOT NULL,
    link       TEXT NOT NULL,
    params     TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    read_at    TIMESTAMP
);
CREATE INDEX notifications_person ON notifications(person_id, id);
