-- 別紙: the attachments of a report version — press releases, and samples
-- (検体: received e-mails, attached files, logs) that may be live malware.
-- An attachment is seen exactly by those who see its version. Samples are
-- kept encrypted (AES-256-GCM, under key_id); sha256 is of the plaintext and
-- is checked when a sample is decrypted. A version's attachments are not
-- inherited by the next hop: it copies the ones it chooses (carried_from).

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases(id),
    version_id   INTEGER NOT NULL REFERENCES report_versions(id),
    filename     TEXT NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
    content_type TEXT NOT NULL DEFAULT '',
    size         INTEGER NOT NULL CHECK (size > 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    is_sample    BOOLEAN NOT NULL DEFAULT FALSE,
    encrypted    BOOLEAN NOT NULL DEFAULT FALSE,
    key_id       TEXT NOT NULL DEFAULT '',
    data         BLOB NOT NULL,
    carried_from INTEGER REFERENCES attachments(id) ON DELETE SET NULL,
    uploaded_by  INTEGER NOT NULL REFERENCES people(id),
    created_at   TIMESTAMP NOT NULL,
    -- A sample is never stored in the clear.
    CHECK (encrypted OR NOT is_sample)
);
CREATE INDEX attachments_version ON attachments(version_id, id);
CREATE INDEX attachments_case ON attachments(case_id, id);

-- Secrets every server on this database shares, made on first use when the
-- configuration gives none (the key samples are sealed under).
CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
