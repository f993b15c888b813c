-- Sign-in throttling counts an attempt before it checks the password or the code: the attempt is written
-- first, as a failure, and a right password that still owes its second factor takes back its own row by
-- `id` (rows written before this migration have none, and are failures). Attempts are counted per account
-- and address, per account and per address, so the address is indexed too.
ALTER TABLE login_attempts ADD COLUMN id TEXT;
CREATE INDEX login_attempts_ip ON login_attempts (ip, at);
