-- The framework's directory, accounts, sessions, tokens and the audit log.
-- Times are TIMESTAMP text in UTC with millisecond precision; the driver
-- reads them back as time.Time.

CREATE TABLE directory_revisions (
    code       TEXT PRIMARY KEY,
    title_ja   TEXT NOT NULL,
    title_en   TEXT NOT NULL,
    applied_at TIMESTAMP NOT NULL
);

CREATE TABLE sectors (
    code          TEXT PRIMARY KEY,
    name_ja       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    ministry_code TEXT NOT NULL,
    revision      TEXT NOT NULL REFERENCES directory_revisions(code),
    position      INTEGER NOT NULL
);

CREATE TABLE sector_services (
    sector_code      TEXT NOT NULL REFERENCES sectors(code),
    code             TEXT NOT NULL,
    name_ja          TEXT NOT NULL,
    name_en          TEXT NOT NULL,
    law_ja           TEXT NOT NULL DEFAULT '',
    service_level_ja TEXT NOT NULL DEFAULT '',
    service_level_en TEXT NOT NULL DEFAULT '',
    threshold        TEXT NOT NULL DEFAULT '{}',
    position         INTEGER NOT NULL,
    PRIMARY KEY (sector_code, code)
);

CREATE TABLE organisations (
    id         INTEGER PRIMARY KEY,
    code       TEXT UNIQUE,
    name_ja    TEXT NOT NULL,
    name_en    TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX organisations_name_ja ON organisations(name_ja);

CREATE TABLE organisation_kinds (
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    kind            TEXT NOT NULL,
    PRIMARY KEY (organisation_id, kind)
);
CREATE INDEX organisation_kinds_kind ON organisation_kinds(kind);

CREATE TABLE organisation_sectors (
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    sector_code     TEXT NOT NULL REFERENCES sectors(code),
    PRIMARY KEY (organisation_id, sector_code)
);
CREATE INDEX organisation_sectors_sector ON organisation_sectors(sector_code);

CREATE TABLE ceptoars (
    code            TEXT PRIMARY KEY,
    name_ja         TEXT NOT NULL,
    name_en         TEXT NOT NULL,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    secretariat_ja  TEXT NOT NULL DEFAULT '',
    secretariat_en  TEXT NOT NULL DEFAULT '',
    member_count    INTEGER,
    members_note_ja TEXT NOT NULL DEFAULT '',
    channels        TEXT NOT NULL DEFAULT '',
    fiscal_year     INTEGER NOT NULL DEFAULT 0,
    position        INTEGER NOT NULL
);

CREATE TABLE ceptoar_sectors (
    ceptoar_code TEXT NOT NULL REFERENCES ceptoars(code) ON DELETE CASCADE,
    sector_code  TEXT NOT NULL REFERENCES sectors(code),
    PRIMARY KEY (ceptoar_code, sector_code)
);

CREATE TABLE ceptoar_members (
    ceptoar_code    TEXT NOT NULL REFERENCES ceptoars(code) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    PRIMARY KEY (ceptoar_code, organisation_id)
);
CREATE INDEX ceptoar_members_org ON ceptoar_members(organisation_id);

-- Versioned classifications of the report form (importance, event class,
-- causes, system status, outlook …): a revision is a data change.
CREATE TABLE classifications (
    version    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    code       TEXT NOT NULL,
    group_code TEXT NOT NULL DEFAULT '',
    name_ja    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    position   INTEGER NOT NULL,
    PRIMARY KEY (version, kind, code)
);

CREATE TABLE people (
    id                INTEGER PRIMARY KEY,
    organisation_id   INTEGER NOT NULL REFERENCES organisations(id),
    email             TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    role              TEXT NOT NULL,
    handles_incidents BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash     TEXT NOT NULL,
    totp_secret       TEXT NOT NULL DEFAULT '',
    totp_enabled      BOOLEAN NOT NULL DEFAULT FALSE,
    failed_logins     INTEGER NOT NULL DEFAULT 0,
    locked_until      TIMESTAMP,
    locale            TEXT NOT NULL DEFAULT 'ja',
    created_at        TIMESTAMP NOT NULL,
    disabled_at       TIMESTAMP
);
CREATE INDEX people_organisation ON people(organisation_id);

CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    mfa_pending  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_person ON sessions(person_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    person_id    INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at   TIMESTAMP
);
CREATE INDEX api_tokens_person ON api_tokens(person_id);

-- Append-only, hash-chained audit log. seq is assigned by the writer under
-- the database's write lock so the chain has no gaps.
CREATE TABLE audit_log (
    seq               INTEGER PRIMARY KEY,
    at                TIMESTAMP NOT NULL,
    person_id         INTEGER,
    person_email      TEXT NOT NULL DEFAULT '',
    organisation_id   INTEGER,
    organisation_name TEXT NOT NULL DEFAULT '',
    action            TEXT NOT NULL,
    object_type       TEXT NOT NULL DEFAULT '',
    object_id         TEXT NOT NULL DEFAULT '',
    outcome           TEXT NOT NULL,
    detail            TEXT NOT NULL DEFAULT '',
    ip                TEXT NOT NULL DEFAULT '',
    prev_hash         TEXT NOT NULL,
    hash              TEXT NOT NULL
);
CREATE INDEX audit_log_person ON audit_log(person_id, seq);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id, seq);

-- The head of the chain, so that removing the newest entries is caught too.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
