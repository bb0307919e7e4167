package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ecert/ecert/registration"
)

// Certificate is one issued version of a registration's electronic certificate.
type Certificate struct {
	CertificateNo     string // stable per registration (the licence serial)
	Version           int
	LicenceID         string // GB/T 36904 identifier of this version
	RegistrationNo    string
	CaseID            string
	IDNumber          string // holder; filled by lookups that join the registration
	Status            registration.CertStatus
	DownloadableFrom  registration.Date // zero: at once; else after the public notice
	OFDKey, OFDSHA256 string
	PDFKey, PDFSHA256 string
	SignerSerial      string
	IssuedAt          time.Time
	StatusReason      string
	StatusChangedAt   time.Time // zero while the status is the one it was issued with
	// VerifyCode is the verification code (核验码) printed on this version
	// and its usage copies; "" for a row that has none yet (recorded NULL).
	VerifyCode string
	// StatusRef is this version's entry in the status lists: reserved with
	// ReserveStatusIndex before rendering (the QR claim prints it), or zero
	// for RecordCertificate to reserve one.
	StatusRef StatusRef
}

// ErrConflict means a concurrent writer recorded the same thing first.
var ErrConflict = errors.New("registry: conflict")

const certColumns = `c.certificate_no, c.version, c.licence_id, c.registration_number, c.case_id, r.id_number, c.status,
	c.downloadable_from, c.ofd_key, c.ofd_digest, c.pdf_key, c.pdf_digest, c.signer_serial, c.issued_at, c.status_reason, c.status_changed_at, c.verify_code,
	c.status_list, c.status_idx`

func scanCertificate(row interface{ Scan(...any) error }) (Certificate, error) {
	var c Certificate
	var status string
	var changed sql.NullTime
	var code sql.NullString
	var list, idx sql.NullInt64
	err := row.Scan(&c.CertificateNo, &c.Version, &c.LicenceID, &c.RegistrationNo, &c.CaseID, &c.IDNumber, &status,
		&c.DownloadableFrom, &c.OFDKey, &c.OFDSHA256, &c.PDFKey, &c.PDFSHA256, &c.SignerSerial, &c.IssuedAt, &c.StatusReason, &changed,
		&code, &list, &idx)
	c.StatusRef = scanRef(list, idx)
	c.Status = registration.CertStatus(status)
	c.VerifyCode = code.String
	c.IssuedAt = c.IssuedAt.UTC()
	if changed.Valid {
		c.StatusChangedAt = changed.Time.UTC()
	}
	return c, err
}

func (r *Registry) oneCertificate(ctx context.Context, where string, args ...any) (Certificate, error) {
	c, err := scanCertificate(r.queryRow(ctx, `SELECT `+certColumns+`
		FROM certificates c JOIN registrations r ON r.number = c.registration_number WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("registry: certificate: %w", err)
	}
	return c, nil
}

// CertificateByCase returns the certificate issued for a case.
func (r *Registry) CertificateByCase(ctx context.Context, caseID string) (Certificate, error) {
	return r.oneCertificate(ctx, `c.case_id = ?`, caseID)
}

// CurrentCertificate returns the newest version of a certificate number.
func (r *Registry) CurrentCertificate(ctx context.Context, certNo string) (Certificate, error) {
	return r.oneCertificate(ctx, `c.certificate_no = ? ORDER BY c.version DESC LIMIT 1`, certNo)
}

// CertificateVersion returns one version of a certificate.
func (r *Registry) CertificateVersion(ctx context.Context, certNo string, version int) (Certificate, error) {
	return r.oneCertificate(ctx, `c.certificate_no = ? AND c.version = ?`, certNo, version)
}

// CertificateByLicenceID returns the certificate version with a licence identifier.
func (r *Registry) CertificateByLicenceID(ctx context.Context, licenceID string) (Certificate, error) {
	return r.oneCertificate(ctx, `c.licence_id = ?`, licenceID)
}

// LatestVersion returns the highest version issued for certNo (0 when none).
func (r *Registry) LatestVersion(ctx context.Context, certNo string) (int, error) {
	var v sql.NullInt64
	err := r.queryRow(ctx, `SELECT MAX(version) FROM certificates WHERE certificate_no = ?`, certNo).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("registry: latest version of %s: %w", certNo, err)
	}
	return int(v.Int64), nil
}

// CertificatesOf lists the current certificates of a holder, newest first.
func (r *Registry) CertificatesOf(ctx context.Context, idNumber string) ([]Certificate, error) {
	rows, err := r.db.QueryContext(ctx, r.q(`SELECT `+certColumns+`
		FROM certificates c JOIN registrations r ON r.number = c.registration_number
		WHERE r.id_number = ? ORDER BY c.issued_at DESC, c.version DESC`), idNumber)
	if err != nil {
		return nil, fmt.Errorf("registry: certificates: %w", err)
	}
	defer rows.Close()
	var out []Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, fmt.Errorf("registry: certificates: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RecordCertificate records a newly issued version and, in the same
// transaction, marks every older valid version of the same certificate number
// as lapsed (05 失效, superseded). The objects must already be stored: a row
// never points at missing files. A second certificate for the same case, or
// the same version twice, fails with ErrConflict and changes nothing.
func (r *Registry) RecordCertificate(ctx context.Context, c Certificate) error {
	var err error
	if r.dialect == SQLite {
		err = r.recordGrouped(ctx, c)
	} else {
		err = r.recordPostgres(ctx, c)
	}
	if err != nil && !errors.Is(err, ErrConflict) {
		return fmt.Errorf("registry: record certificate: %w", err)
	}
	return err
}

// recordRequest is one RecordCertificate call waiting for a group commit.
type recordRequest struct {
	c    Certificate
	done chan error // receives the outcome once the transaction has ended
}

// recordGrouped records c in a transaction shared with the other
// RecordCertificate calls waiting at the same moment (group commit). SQLite
// has one writer: instead of queueing for the write lock one row at a time,
// whoever gets the lock commits every request waiting then; the others find
// their outcome delivered when they wake. Each request keeps its own
// outcome: a conflict fails only its own INSERT (SQLite aborts the statement,
// not the transaction) and changes nothing of its own; any other error rolls
// the batch back, and its rows are then recorded one transaction each, so
// that only the failing row's caller sees the error.
//
// Once queued, a request is not abandoned when ctx ends: its row may be
// committed by another caller, and a caller told "failed" would delete the
// objects the row points at. The commit itself does not depend on any one
// caller's context.
func (r *Registry) recordGrouped(ctx context.Context, c Certificate) error {
	req := &recordRequest{c: c, done: make(chan error, 1)}
	r.pmu.Lock()
	r.pending = append(r.pending, req)
	r.pmu.Unlock()
	select {
	case err := <-req.done:
		return err
	case r.wsem <- struct{}{}:
	}
	defer func() { <-r.wsem }()
	r.pmu.Lock()
	batch := r.pending
	r.pending = nil
	r.pmu.Unlock()
	if len(batch) == 0 { // a leader before us took ours along
		return <-req.done
	}
	outcome := make([]error, len(batch))
	err := r.txLocked(context.WithoutCancel(ctx), func(tx *sql.Tx) error {
		st, err := r.prepareRecord(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for i, q := range batch {
			outcome[i] = r.recordIn(ctx, st, q.c)
			if outcome[i] != nil && !errors.Is(outcome[i], ErrConflict) {
				return outcome[i]
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		// Nothing was committed. Record each on its own, so that one bad
		// row (a broken reference, say) fails only its own caller.
		for i, q := range batch {
			outcome[i] = r.txLocked(context.WithoutCancel(ctx), r.recordOne(ctx, q.c))
		}
		err = nil
	}
	for i, q := range batch {
		if err != nil {
			q.done <- err
		} else {
			q.done <- outcome[i]
		}
	}
	return <-req.done
}

// recordOne is the transaction body recording c alone.
func (r *Registry) recordOne(ctx context.Context, c Certificate) func(*sql.Tx) error {
	return func(tx *sql.Tx) error {
		st, err := r.prepareRecord(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		return r.recordIn(ctx, st, c)
	}
}

// recordPostgres records c with one statement: the insert, the supersede,
// the audit entry and the status list entries as data-modifying CTEs, which
// PostgreSQL runs in one implicit transaction (all or nothing; a duplicate
// version or case fails the whole statement). A transaction of three
// statements took five round trips per issued certificate. Without a
// reserved status index, the reservation and the statement share one
// transaction.
func (r *Registry) recordPostgres(ctx context.Context, c Certificate) error {
	// Once sent, the row may commit whatever the caller's context says; a
	// caller told "cancelled" would delete the objects the row points at.
	ctx = context.WithoutCancel(ctx)
	if c.StatusRef.IsZero() {
		return r.tx(ctx, func(tx *sql.Tx) error {
			var err error
			if c.StatusRef, err = r.reserveIn(ctx, tx); err != nil {
				return err
			}
			return r.recordPostgresIn(ctx, tx, c)
		})
	}
	return r.recordPostgresIn(ctx, r.db, c)
}

// recordPostgresIn runs sqlRecordPostgres on db (the pool or a transaction).
func (r *Registry) recordPostgresIn(ctx context.Context, db interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, c Certificate) error {
	now := r.now().UTC()
	_, err := db.ExecContext(ctx, sqlRecordPostgres,
		c.CertificateNo, c.Version, c.LicenceID, c.RegistrationNo, c.CaseID, string(registration.CertValid),
		c.DownloadableFrom, c.OFDKey, c.OFDSHA256, c.PDFKey, c.PDFSHA256, c.SignerSerial, c.IssuedAt.UTC(),
		string(registration.CertLapsed), now, supersedeReason(c),
		issuedDetail(c), nullIfEmpty(c.VerifyCode), c.StatusRef.List, c.StatusRef.Index, EntrySuspended)
	r.changed()
	if err != nil && isUniqueViolation(err) {
		return fmt.Errorf("certificate %s v%d for case %s: %w", c.CertificateNo, c.Version, c.CaseID, ErrConflict)
	}
	if err != nil && isDivisionByZero(err) { // the bind CTE found no reserved entry
		return fmt.Errorf("certificate %s v%d status index %s: %w", c.CertificateNo, c.Version, c.StatusRef, ErrStatusRef)
	}
	return err
}

// supersedeReason is the status reason of the versions c supersedes.
func supersedeReason(c Certificate) string {
	return fmt.Sprintf("superseded by version %03d (case %s)", c.Version, c.CaseID)
}

// issuedDetail is the audit detail of recording c.
func issuedDetail(c Certificate) string {
	return fmt.Sprintf("%s v%03d signer %s", c.LicenceID, c.Version, c.SignerSerial)
}

// sqlRecordPostgres is sqlInsertCertificate, sqlSupersede and
// sqlAuditIssued as one PostgreSQL statement (recordPostgres).
//
// The status CTEs: bind claims the reserved entry $19/$20 for the new
// version; sst marks the entries of the superseded versions and their
// copies SUSPENDED ($21) and gen counts a generation of their lists. If
// bind finds no unclaimed entry, the final division by zero fails the whole
// statement (ErrStatusRef): PostgreSQL has no other way to refuse from a CTE.
const sqlRecordPostgres = `WITH ins AS (
		INSERT INTO certificates (certificate_no, version, licence_id, registration_number, case_id, status,
			downloadable_from, ofd_key, ofd_digest, pdf_key, pdf_digest, signer_serial, issued_at, status_reason, verify_code,
			status_list, status_idx)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '', $18, $19, $20)
		RETURNING 1
	), bind AS (
		UPDATE status_entries SET certificate_no = $1, version = $2, updated_at = $15
		WHERE list_id = $19 AND idx = $20 AND certificate_no IS NULL
		RETURNING 1
	), sst AS (
		UPDATE status_entries SET status = $21, updated_at = $15
		WHERE certificate_no = $1 AND version < $2 AND status = 0
		RETURNING list_id
	), gen AS (
		UPDATE status_lists SET generation = generation + 1 WHERE id IN (SELECT list_id FROM sst)
	), sup AS (
		UPDATE certificates SET status = $14, status_changed_at = $15, status_reason = $16
		WHERE certificate_no = $1 AND version < $2 AND status = $6
	), aud AS (
		INSERT INTO audit_log (at, actor, action, subject, detail)
		VALUES ($15, 'issuer', 'certificate.issued', $5, $17)
	)
	SELECT (SELECT count(*) FROM ins) / (SELECT count(*) FROM bind)`

// RecordCertificate's statements on SQLite (sqlRecordPostgres is the three as one).
const (
	sqlInsertCertificate = `INSERT INTO certificates (certificate_no, version, licence_id, registration_number, case_id, status,
			downloadable_from, ofd_key, ofd_digest, pdf_key, pdf_digest, signer_serial, issued_at, status_reason, verify_code,
			status_list, status_idx)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?)`
	sqlSupersede = `UPDATE certificates SET status = ?, status_changed_at = ?, status_reason = ?
			WHERE certificate_no = ? AND version < ? AND status = ?`
	sqlAuditIssued = `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`
)

// recordStmts are RecordCertificate's statements on SQLite, prepared once
// per group commit (database/sql would otherwise compile each statement for
// each row). PostgreSQL records with one statement (recordPostgres).
type recordStmts struct {
	tx                       *sql.Tx
	insert, supersede, audit *sql.Stmt
}

func (s *recordStmts) close() {
	for _, st := range []*sql.Stmt{s.insert, s.supersede, s.audit} {
		if st != nil {
			st.Close()
		}
	}
}

func (r *Registry) prepareRecord(ctx context.Context, tx *sql.Tx) (*recordStmts, error) {
	st := &recordStmts{tx: tx}
	ctx = context.WithoutCancel(ctx)
	var err error
	if st.insert, err = tx.PrepareContext(ctx, sqlInsertCertificate); err != nil {
		return nil, err
	}
	if st.supersede, err = tx.PrepareContext(ctx, sqlSupersede); err != nil {
		st.close()
		return nil, err
	}
	if st.audit, err = tx.PrepareContext(ctx, sqlAuditIssued); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

// recordIn inserts c, binds its status entry (reserving one if c has
// none), supersedes older valid versions and their status entries, and
// audits, with st in st.tx.
func (r *Registry) recordIn(ctx context.Context, st *recordStmts, c Certificate) error {
	ctx = context.WithoutCancel(ctx)
	if c.StatusRef.IsZero() {
		var err error
		if c.StatusRef, err = r.reserveIn(ctx, st.tx); err != nil {
			return err
		}
	}
	list, idx := nullRef(c.StatusRef)
	_, err := st.insert.ExecContext(ctx,
		c.CertificateNo, c.Version, c.LicenceID, c.RegistrationNo, c.CaseID, string(registration.CertValid),
		c.DownloadableFrom, c.OFDKey, c.OFDSHA256, c.PDFKey, c.PDFSHA256, c.SignerSerial, c.IssuedAt.UTC(),
		nullIfEmpty(c.VerifyCode), list, idx)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("certificate %s v%d for case %s: %w", c.CertificateNo, c.Version, c.CaseID, ErrConflict)
		}
		return err
	}
	if err := r.bindIn(ctx, st.tx, c.StatusRef, c.CertificateNo, c.Version, ""); err != nil {
		return err
	}
	if err := r.setEntriesIn(ctx, st.tx, EntrySuspended, entriesBefore, c.CertificateNo, c.Version); err != nil {
		return err
	}
	now := r.now().UTC()
	if _, err := st.supersede.ExecContext(ctx,
		string(registration.CertLapsed), now, supersedeReason(c),
		c.CertificateNo, c.Version, string(registration.CertValid)); err != nil {
		return err
	}
	_, err = st.audit.ExecContext(ctx,
		now, "issuer", "certificate.issued", c.CaseID, issuedDetail(c))
	return err
}

// SetCertificatesStatus changes the status of every still-valid certificate
// of a registration (cancellation: 04 注销; revocation: 07 吊销) and reports how many changed.
func (r *Registry) SetCertificatesStatus(ctx context.Context, regNo string, status registration.CertStatus, reason, actor string) (int, error) {
	var n int64
	err := r.tx(ctx, func(tx *sql.Tx) error {
		now := r.now().UTC()
		if err := r.setEntriesIn(ctx, tx, EntryStatus(status), entriesOfRegistration, regNo, string(registration.CertValid)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, r.q(`UPDATE certificates SET status = ?, status_changed_at = ?, status_reason = ?
			WHERE registration_number = ? AND status = ?`), string(status), now, reason, regNo, string(registration.CertValid))
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, r.q(`INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`),
			now, actor, "certificate.status", regNo, string(status)+" "+reason)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("registry: set certificate status of %s: %w", regNo, err)
	}
	return int(n), nil
}

// UsageCopy is one re-stamped usage copy (加注件) of a certificate version.
type UsageCopy struct {
	CopyID        string
	CertificateNo string
	Version       int
	Format        string // "ofd" or "pdf"
	ValidFrom     time.Time
	ValidUntil    time.Time // exclusive instant: the copy is usable before it
	Purpose       string
	// Day is the China-time day of the press the copy was made for: the
	// registry keeps one copy per certificate version, format, purpose and
	// day. Zero only for surplus copies that concurrent presses made before
	// that rule (they stay readable by id).
	Day       registration.Date
	CreatedBy string
	ObjectKey string
	SHA256    string
	CreatedAt time.Time
	// StatusRef is the copy's entry in the status lists: reserved with
	// ReserveStatusIndex before rendering, or zero for RecordCopyOnce to
	// reserve one.
	StatusRef StatusRef
}

const copyColumns = `copy_id, certificate_no, version, format, valid_from, valid_until, purpose, day, created_by, object_key, digest, created_at,
	status_list, status_idx`

func scanCopy(row interface{ Scan(...any) error }) (UsageCopy, error) {
	var u UsageCopy
	var list, idx sql.NullInt64
	err := row.Scan(&u.CopyID, &u.CertificateNo, &u.Version, &u.Format, &u.ValidFrom, &u.ValidUntil, &u.Purpose, &u.Day,
		&u.CreatedBy, &u.ObjectKey, &u.SHA256, &u.CreatedAt, &list, &idx)
	u.StatusRef = scanRef(list, idx)
	u.ValidFrom, u.ValidUntil, u.CreatedAt = u.ValidFrom.UTC(), u.ValidUntil.UTC(), u.CreatedAt.UTC()
	return u, err
}

// CopyFor returns the usage copy made for a certificate version, format and
// purpose on day (China time), or ErrNotFound.
func (r *Registry) CopyFor(ctx context.Context, certNo string, version int, format, purpose string, day registration.Date) (UsageCopy, error) {
	return r.copyFor(ctx, r.db, certNo, version, format, purpose, day)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (r *Registry) copyFor(ctx context.Context, q queryer, certNo string, version int, format, purpose string, day registration.Date) (UsageCopy, error) {
	u, err := scanCopy(q.QueryRowContext(ctx, r.q(`SELECT `+copyColumns+` FROM usage_copies
		WHERE certificate_no = ? AND version = ? AND format = ? AND purpose = ? AND day = ?`),
		certNo, version, format, purpose, day.String()))
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("registry: copy of %s for %s: %w", certNo, day, err)
	}
	return u, nil
}

// UsageCopyByID returns a usage copy by its id.
func (r *Registry) UsageCopyByID(ctx context.Context, copyID string) (UsageCopy, error) {
	u, err := scanCopy(r.db.QueryRowContext(ctx, r.q(`SELECT `+copyColumns+` FROM usage_copies WHERE copy_id = ?`), copyID))
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("registry: usage copy %s: %w", copyID, err)
	}
	return u, nil
}

// RecordCopyOnce records u as the copy of its certificate version, format
// and purpose for u.Day, unless one is recorded already: then it records
// nothing and returns that copy with recorded=false. The check and the insert
// are one statement against a unique index (INSERT … ON CONFLICT DO NOTHING),
// so however many processes race, on either engine, one copy is recorded and
// every caller gets it.
func (r *Registry) RecordCopyOnce(ctx context.Context, u UsageCopy) (got UsageCopy, recorded bool, err error) {
	if u.Day.IsZero() {
		return UsageCopy{}, false, fmt.Errorf("registry: record usage copy %s: no day", u.CopyID)
	}
	if u.StatusRef.IsZero() {
		// Reserved in a transaction of its own, as issuance does: the copy's
		// transaction then never locks a list before the certificate row
		// (see settleCopyStatusIn). An index a losing press reserved stays
		// VALID and unused.
		if u.StatusRef, err = r.ReserveStatusIndex(ctx); err != nil {
			return UsageCopy{}, false, fmt.Errorf("registry: record usage copy %s: %w", u.CopyID, err)
		}
	}
	err = r.tx(ctx, func(tx *sql.Tx) error {
		now := r.now().UTC()
		list, idx := nullRef(u.StatusRef)
		res, err := tx.ExecContext(ctx, r.q(`INSERT INTO usage_copies (`+copyColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
			u.CopyID, u.CertificateNo, u.Version, u.Format, u.ValidFrom.UTC(), u.ValidUntil.UTC(), u.Purpose, u.Day.String(),
			u.CreatedBy, u.ObjectKey, u.SHA256, now, list, idx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			got, err = r.copyFor(ctx, tx, u.CertificateNo, u.Version, u.Format, u.Purpose, u.Day)
			if errors.Is(err, ErrNotFound) { // the conflict was the copy id itself
				return fmt.Errorf("copy id %s: %w", u.CopyID, ErrConflict)
			}
			return err
		}
		if err := r.bindIn(ctx, tx, u.StatusRef, u.CertificateNo, u.Version, u.CopyID); err != nil {
			return err
		}
		if err := r.settleCopyStatusIn(ctx, tx, u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, r.q(`INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`),
			now, u.CreatedBy, "copy.created", u.CertificateNo, fmt.Sprintf("%s %s until %s", u.CopyID, u.Format, u.ValidUntil.Format(time.RFC3339)))
		u.CreatedAt = now
		got, recorded = u, true
		return err
	})
	if err != nil {
		return UsageCopy{}, false, fmt.Errorf("registry: record usage copy %s: %w", u.CopyID, err)
	}
	return got, recorded, nil
}

// settleCopyStatusIn closes the race between recording copy u and a
// change of its certificate version's status on PostgreSQL. bindIn gave the
// copy's entry the status of the certificate's entry as this transaction
// last saw it; a revocation, supersession or cancellation committing
// meanwhile did not see the copy. Locking the certificate row (FOR SHARE,
// last, so that no list is locked before it) either waits for such a
// change to commit and then sees it — the entry is set here and the list's
// generation counted, so the publisher builds it again after this commit —
// or holds the change back until this copy has committed, and the change's
// own generation then follows the copy (StatusEntries gives a copy its
// certificate's entry status). SQLite serialises writers: bindIn saw the
// last committed status.
func (r *Registry) settleCopyStatusIn(ctx context.Context, tx *sql.Tx, u UsageCopy) error {
	if r.dialect != Postgres {
		return nil
	}
	var status string
	err := tx.QueryRowContext(ctx, `SELECT status FROM certificates WHERE certificate_no = $1 AND version = $2 FOR SHARE`,
		u.CertificateNo, u.Version).Scan(&status)
	if err != nil {
		return err
	}
	want := EntryStatus(registration.CertStatus(status))
	if want == EntryValid {
		return nil
	}
	return r.setEntriesIn(ctx, tx, want, `list_id = ? AND idx = ?`, u.StatusRef.List, u.StatusRef.Index)
}

// CountCopies returns how many usage copies exist for a certificate number.
func (r *Registry) CountCopies(ctx context.Context, certNo string) (int, error) {
	var n int
	err := r.db.QueryRowContext(ctx, r.q(`SELECT COUNT(*) FROM usage_copies WHERE certificate_no = ?`), certNo).Scan(&n)
	return n, err
}
