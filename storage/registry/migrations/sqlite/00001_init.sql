-- +goose Up
CREATE TABLE persons (
    id_number   TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    gender      TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    phone       TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE qualifications (
    certificate_no TEXT PRIMARY KEY,
    id_number      TEXT NOT NULL REFERENCES persons(id_number),
    specialty      TEXT NOT NULL DEFAULT '',
    approval_date  TEXT NOT NULL,
    issue_date     TEXT
);
CREATE INDEX qualifications_id_number ON qualifications(id_number);

CREATE TABLE registrations (
    number         TEXT PRIMARY KEY,
    id_number      TEXT NOT NULL REFERENCES persons(id_number),
    employer_name  TEXT NOT NULL,
    employer_code  TEXT NOT NULL,
    specialties    TEXT NOT NULL,
    valid_from     TEXT NOT NULL,
    valid_until    TEXT NOT NULL,
    status         TEXT NOT NULL,
    cancel_reason  TEXT NOT NULL DEFAULT '',
    cancelled_on   TEXT,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX registrations_id_number ON registrations(id_number);
CREATE INDEX registrations_status_valid_until ON registrations(status, valid_until);

CREATE TABLE cases (
    case_id              TEXT PRIMARY KEY,
    business_type        TEXT NOT NULL,
    status               TEXT NOT NULL,
    id_number            TEXT NOT NULL REFERENCES persons(id_number),
    registration_number  TEXT,
    approved_on          TEXT,
    notice_end           TEXT,
    record               TEXT NOT NULL,
    created_at           TIMESTAMP NOT NULL
);
CREATE INDEX cases_id_number ON cases(id_number);

CREATE TABLE certificates (
    certificate_no       TEXT NOT NULL,
    version              INTEGER NOT NULL,
    licence_id           TEXT NOT NULL UNIQUE,
    registration_number  TEXT NOT NULL REFERENCES registrations(number),
    case_id              TEXT NOT NULL UNIQUE REFERENCES cases(case_id),
    status               TEXT NOT NULL,
    downloadable_from    TEXT,
    ofd_key              TEXT NOT NULL,
    ofd_digest           TEXT NOT NULL,
    pdf_key              TEXT NOT NULL,
    pdf_digest           TEXT NOT NULL,
    signer_serial        TEXT NOT NULL,
    issued_at            TIMESTAMP NOT NULL,
    status_changed_at    TIMESTAMP,
    status_reason        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (certificate_no, version)
);
CREATE INDEX certificates_registration ON certificates(registration_number);

CREATE TABLE usage_copies (
    copy_id         TEXT PRIMARY KEY,
    certificate_no  TEXT NOT NULL,
    version         INTEGER NOT NULL,
    format          TEXT NOT NULL,
    valid_from      TIMESTAMP NOT NULL,
    valid_until     TIMESTAMP NOT NULL,
    purpose         TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL,
    object_key      TEXT NOT NULL,
    digest          TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    FOREIGN KEY (certificate_no, version) REFERENCES certificates(certificate_no, version)
);
CREATE INDEX usage_copies_cert ON usage_copies(certificate_no, format, valid_until);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TIMESTAMP NOT NULL,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL,
    detail   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_subject ON audit_log(subject);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE usage_copies;
DROP TABLE certificates;
DROP TABLE cases;
DROP TABLE registrations;
DROP TABLE qualifications;
DROP TABLE persons;
