-- Foundation schema, one file for both backends (SQLite and PostgreSQL): booleans are BIGINT 0/1 and
-- times are BIGINT microseconds since the Unix epoch (UTC), so that one query layer (sqlx Any) reads
-- both the same way. Write only SQL that both accept.
CREATE TABLE sectors (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES sectors(id),
    name_es     TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE entities (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    acronym               TEXT,
    kind                  TEXT NOT NULL,
    parent_id             TEXT REFERENCES entities(id),
    sector_id             TEXT REFERENCES sectors(id),
    state_code            TEXT,
    time_zone             TEXT NOT NULL,
    national_authority    BIGINT NOT NULL DEFAULT 0,
    active                BIGINT NOT NULL DEFAULT 1,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX entities_name ON entities (name);
CREATE INDEX entities_sector ON entities (sector_id);

CREATE TABLE contacts (
    id          TEXT PRIMARY KEY,
    entity_id   TEXT NOT NULL REFERENCES entities(id),
    name        TEXT NOT NULL,
    title       TEXT NOT NULL,
    email       TEXT NOT NULL,
    phone       TEXT NOT NULL,
    is_24_7     BIGINT NOT NULL DEFAULT 0,
    tlp         TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX contacts_entity ON contacts (entity_id);

-- Who may read a record beyond its owner: AMBER shares with entities, RED names people.
CREATE TABLE record_shares (
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    entity_id   TEXT NOT NULL REFERENCES entities(id),
    PRIMARY KEY (record_type, record_id, entity_id)
);
CREATE TABLE record_recipients (
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    PRIMARY KEY (record_type, record_id, user_id)
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    entity_id           TEXT NOT NULL REFERENCES entities(id),
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    totp_secret         TEXT,
    totp_enabled        BIGINT NOT NULL DEFAULT 0,
    -- The last TOTP time step accepted, so that a code is never accepted twice (RFC 6238 §5.2).
    totp_last_step      BIGINT NOT NULL DEFAULT 0,
    active              BIGINT NOT NULL DEFAULT 1,
    lang                TEXT NOT NULL DEFAULT 'es',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX users_entity ON users (entity_id);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    entity_id    TEXT NOT NULL REFERENCES entities(id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    purposes     TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_entity ON api_tokens (entity_id);

CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id),
    stage         TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
    email       TEXT NOT NULL,
    ip          TEXT NOT NULL,
    at          BIGINT NOT NULL,
    success     BIGINT NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, at);

-- Append-only, hash-chained audit trail. audit_head holds the tip so that appends serialise on one row
-- and truncating the tail is detectable.
CREATE TABLE audit_log (
    seq           BIGINT PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_label   TEXT NOT NULL,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    before_digest TEXT NOT NULL,
    after_digest  TEXT NOT NULL,
    changes       TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_log (object_type, object_id);
CREATE INDEX audit_entity ON audit_log (entity_id, seq);

CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_checkpoints (
    seq         BIGINT PRIMARY KEY,
    hash        TEXT NOT NULL,
    signed_at   BIGINT NOT NULL,
    public_key  TEXT NOT NULL,
    signature   TEXT NOT NULL
);
