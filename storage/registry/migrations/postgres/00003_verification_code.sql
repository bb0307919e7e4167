-- The verification code (核验码) of each certificate version: random,
-- printed on the certificate and its usage copies and carried in the QR URL;
-- with the licence identifier it opens the public status lookup. It is kept
-- as printed (not hashed): usage copies re-render the certificate later and
-- must print it again. It gates a lookup of masked data, it is not a
-- password.
--
-- SQL cannot draw crypto-random codes, so rows issued before this migration
-- get NULL here and a code from the registry's backfill, which runs in Go
-- after every migration (Registry.Migrate, under the migration lock): their
-- files print no code, but their later usage copies do. Until then, and for
-- any row an older binary inserts, NULL means "no code": such a certificate
-- cannot be looked up publicly. The partial index finds those rows at once,
-- so the backfill costs nothing when there are none.

-- +goose Up
ALTER TABLE certificates ADD COLUMN verify_code TEXT;
CREATE INDEX certificates_without_verify_code ON certificates(certificate_no, version) WHERE verify_code IS NULL;

-- +goose Down
DROP INDEX certificates_without_verify_code;
ALTER TABLE certificates DROP COLUMN verify_code;
