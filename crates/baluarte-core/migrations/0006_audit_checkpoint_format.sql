-- Checkpoint formats. Checkpoints signed before this migration are format 1: their signature covers
-- the entry's sequence number and hash (`baluarte-audit-checkpoint-v1:{seq}:{hash}`), not the time
-- they were signed at. Checkpoints signed since are format 2: the signature covers the time too
-- (`baluarte-audit-checkpoint-v2:{seq}:{hash}:{signed_at}`), and each is also appended to the
-- checkpoint file in the data directory and sent to the configured witnesses.
ALTER TABLE audit_checkpoints ADD COLUMN format BIGINT NOT NULL DEFAULT 1;
