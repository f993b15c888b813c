-- Outbox leases: a worker claims a row for a while before delivering it, so that two servers over one
-- database never send the same message at once, and a row whose worker died is picked up again when the
-- lease runs out. `claimed_by` holds the claim's random token, which the worker must still hold to
-- record the outcome.
ALTER TABLE outbox ADD COLUMN lease_until BIGINT;
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
