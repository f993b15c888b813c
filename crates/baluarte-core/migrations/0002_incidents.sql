-- Incident reporting and the national CSIRT. Same conventions as 0001: BIGINT booleans (0/1) and times
-- (microseconds since the Unix epoch, UTC); SQL that both SQLite and PostgreSQL accept.

-- One row per year: the next number of the human reference (BAL-2026-000123).
CREATE TABLE incident_counters (
    year  BIGINT PRIMARY KEY,
    next  BIGINT NOT NULL
);

CREATE TABLE campaigns (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    tlp          TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

CREATE TABLE incidents (
    id                    TEXT PRIMARY KEY,
    reference             TEXT NOT NULL UNIQUE,
    entity_id             TEXT NOT NULL REFERENCES entities(id),
    reported_by           TEXT NOT NULL,
    reported_by_label     TEXT NOT NULL,
    channel               TEXT NOT NULL,
    title                 TEXT NOT NULL,
    description           TEXT NOT NULL,
    detected_at           BIGINT NOT NULL,
    occurred_at           BIGINT,
    rsit_class            TEXT NOT NULL,
    rsit_type             TEXT NOT NULL,
    severity              TEXT NOT NULL,
    tlp                   TEXT NOT NULL,
    pap                   TEXT NOT NULL,
    affected_services     TEXT NOT NULL,
    affected_systems      TEXT NOT NULL,
    interruption_minutes  BIGINT,
    people_affected       BIGINT,
    data_compromised      BIGINT NOT NULL,
    personal_data         BIGINT NOT NULL,
    status                TEXT NOT NULL,
    assignee_id           TEXT REFERENCES users(id),
    merged_into           TEXT REFERENCES incidents(id),
    campaign_id           TEXT REFERENCES campaigns(id),
    resolution            TEXT,
    lessons_learned       TEXT,
    -- The deadline profile in force when the report was filed: a later change of assignment does not
    -- move the deadlines of incidents already filed.
    profile_id            TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    acknowledged_at       BIGINT,
    closed_at             BIGINT
);
CREATE INDEX incidents_entity ON incidents (entity_id, created_at);
CREATE INDEX incidents_status ON incidents (status, created_at);
CREATE INDEX incidents_campaign ON incidents (campaign_id);

-- Each stage an entity sends (initial notification, update, final report): the exact bytes received,
-- their digest and the signed receipt returned.
CREATE TABLE incident_submissions (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    stage_id      TEXT NOT NULL,
    body          TEXT NOT NULL,
    digest        TEXT NOT NULL,
    submitted_by  TEXT NOT NULL,
    submitted_at  BIGINT NOT NULL,
    receipt       TEXT NOT NULL
);
CREATE INDEX incident_submissions_incident ON incident_submissions (incident_id, submitted_at);

-- Stages the CSIRT asked for (anchor `csirt_request` of a deadline profile).
CREATE TABLE incident_stage_requests (
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    stage_id      TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    PRIMARY KEY (incident_id, stage_id)
);

-- A repeated API submission with the same key returns the first result (per caller).
CREATE TABLE idempotency_keys (
    principal_id    TEXT NOT NULL,
    idem_key        TEXT NOT NULL,
    request_digest  TEXT NOT NULL,
    incident_id     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (principal_id, idem_key)
);

-- Bundles imported from partners, kept whole for provenance.
CREATE TABLE stix_imports (
    id           TEXT PRIMARY KEY,
    bundle_id    TEXT NOT NULL,
    source       TEXT NOT NULL,
    imported_by  TEXT NOT NULL,
    imported_at  BIGINT NOT NULL,
    entity_id    TEXT NOT NULL REFERENCES entities(id),
    tlp          TEXT NOT NULL,
    objects      BIGINT NOT NULL,
    summary      TEXT NOT NULL
);

-- Observables, normalised. `corr_key` is the exact-match key ("domain:example.com"), `related_key` a
-- second key it also answers to (a URL's host); ip_lo/ip_hi are fixed-width hex bounds for CIDR lookups.
CREATE TABLE observables (
    id            TEXT PRIMARY KEY,
    -- From a report, or from a partner's STIX bundle (then incident_id is NULL).
    incident_id   TEXT REFERENCES incidents(id),
    import_id     TEXT REFERENCES stix_imports(id),
    entity_id     TEXT NOT NULL REFERENCES entities(id),
    kind          TEXT NOT NULL,
    value         TEXT NOT NULL,
    corr_key      TEXT NOT NULL,
    related_key   TEXT,
    ip_lo         TEXT,
    ip_hi         TEXT,
    tlp           TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX observables_key ON observables (corr_key);
CREATE INDEX observables_related ON observables (related_key);
CREATE INDEX observables_ip ON observables (ip_lo);
-- Networks are few: an address looks up the networks holding it by kind first.
CREATE INDEX observables_kind_ip ON observables (kind, ip_lo);
CREATE INDEX observables_incident ON observables (incident_id);

-- Attachment contents, stored once per SHA-256 whatever the number of incidents that carry them.
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    content     BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE attachments (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    entity_id    TEXT NOT NULL REFERENCES entities(id),
    sha256       TEXT NOT NULL REFERENCES blobs(sha256),
    filename     TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size         BIGINT NOT NULL,
    uploaded_by  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX attachments_incident ON attachments (incident_id);

CREATE TABLE incident_tasks (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    title        TEXT NOT NULL,
    assignee_id  TEXT REFERENCES users(id),
    done         BIGINT NOT NULL DEFAULT 0,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    done_at      BIGINT
);
CREATE INDEX incident_tasks_incident ON incident_tasks (incident_id);

-- The timeline. `shared` entries are visible to the reporting entity; the rest are the CSIRT's own.
CREATE TABLE incident_journal (
    id            TEXT PRIMARY KEY,
    incident_id   TEXT NOT NULL REFERENCES incidents(id),
    at            BIGINT NOT NULL,
    author_id     TEXT NOT NULL,
    author_label  TEXT NOT NULL,
    kind          TEXT NOT NULL,
    body          TEXT NOT NULL,
    shared        BIGINT NOT NULL
);
CREATE INDEX incident_journal_incident ON incident_journal (incident_id, at);

CREATE TABLE info_requests (
    id           TEXT PRIMARY KEY,
    incident_id  TEXT NOT NULL REFERENCES incidents(id),
    question     TEXT NOT NULL,
    asked_by     TEXT NOT NULL,
    asked_at     BIGINT NOT NULL,
    answer       TEXT,
    answered_by  TEXT,
    answered_at  BIGINT
);
CREATE INDEX info_requests_incident ON info_requests (incident_id);

-- Which deadline profile applies to whom: an entity, a sector (and its subsectors) or a kind of entity.
CREATE TABLE deadline_assignments (
    id           TEXT PRIMARY KEY,
    profile_id   TEXT NOT NULL,
    entity_id    TEXT REFERENCES entities(id),
    sector_id    TEXT REFERENCES sectors(id),
    entity_kind  TEXT,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

-- In-app notifications, one row per recipient.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    kind         TEXT NOT NULL,
    incident_id  TEXT,
    title        TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    read_at      BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);

-- Webhook endpoints an entity (or the national authority) registers for its events.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    entity_id   TEXT NOT NULL REFERENCES entities(id),
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Deliveries to make outside the database (e-mail, webhooks), written in the same transaction as the
-- change that causes them and sent by a worker with retries.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    channel          TEXT NOT NULL,
    target           TEXT NOT NULL,
    event            TEXT NOT NULL,
    subject          TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    delivered_at     BIGINT,
    failed_at        BIGINT,
    last_error       TEXT
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);

-- Bookmarks of periodic workers (e.g. the deadline reminder scan), so that each reminder fires once.
CREATE TABLE worker_marks (
    name  TEXT PRIMARY KEY,
    at    BIGINT NOT NULL
);
