-- Audit entry formats. Entries written before this migration are format 1: their record digests are
-- SHA-256 over serde_json's text of the state, in whatever key order the build's maps kept. Entries
-- written since are format 2: digests over canonical JSON (keys sorted). Each entry's hash commits to
-- its format, and verification recomputes every entry by its own format's rule, so the chains written
-- before still verify.
ALTER TABLE audit_log ADD COLUMN format BIGINT NOT NULL DEFAULT 1;
