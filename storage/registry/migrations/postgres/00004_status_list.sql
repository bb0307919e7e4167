-- The status list (issue 17): every certificate version and every usage
-- copy holds an index in a list of 2-bit entries (0 VALID, 1 INVALID:
-- revoked or cancelled, 2 SUSPENDED: superseded) that verifiers fetch
-- signed and consult offline (docs/status-list.md).
--
-- status_lists: one row per list. size is fixed when the list is made;
-- used counts reserved indices (a new list is made when one is half full);
-- generation grows in the transaction of every change of an entry's status,
-- so the publisher knows cheaply when to rebuild.
--
-- status_entries: one row per reserved index, chosen at random. The subject
-- (certificate_no, version and, for a usage copy, copy_id) is NULL from the
-- reservation (made before the certificate is rendered, as its QR code
-- prints the index) until the certificate or copy is recorded. Only rows
-- with a non-zero status change the published list.
--
-- certificates and usage_copies point at their entry (status_list,
-- status_idx). Rows recorded before this migration get NULL and a reference
-- from the registry's backfill, which runs in Go after every migration
-- (Registry.Migrate, under the migration lock); the partial indexes find
-- them at once.

-- +goose Up
CREATE TABLE status_lists (
    id          BIGINT PRIMARY KEY,
    size        BIGINT NOT NULL,
    used        BIGINT NOT NULL DEFAULT 0,
    generation  BIGINT NOT NULL DEFAULT 0,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE status_entries (
    list_id         BIGINT NOT NULL REFERENCES status_lists(id),
    idx             BIGINT NOT NULL,
    status          INTEGER NOT NULL DEFAULT 0,
    certificate_no  TEXT,
    version         INTEGER,
    copy_id         TEXT,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (list_id, idx)
);
CREATE INDEX status_entries_subject ON status_entries(certificate_no, version);
CREATE INDEX status_entries_set ON status_entries(list_id, idx) WHERE status <> 0;

ALTER TABLE certificates ADD COLUMN status_list BIGINT;
ALTER TABLE certificates ADD COLUMN status_idx BIGINT;
ALTER TABLE usage_copies ADD COLUMN status_list BIGINT;
ALTER TABLE usage_copies ADD COLUMN status_idx BIGINT;
CREATE INDEX certificates_without_status ON certificates(certificate_no, version) WHERE status_list IS NULL;
CREATE INDEX usage_copies_without_status ON usage_copies(copy_id) WHERE status_list IS NULL;

-- +goose Down
DROP INDEX usage_copies_without_status;
DROP INDEX certificates_without_status;
ALTER TABLE usage_copies DROP COLUMN status_idx;
ALTER TABLE usage_copies DROP COLUMN status_list;
ALTER TABLE certificates DROP COLUMN status_idx;
ALTER TABLE certificates DROP COLUMN status_list;
DROP TABLE status_entries;
DROP TABLE status_lists;
