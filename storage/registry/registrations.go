package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ecert/ecert/registration"
)

const regColumns = `number, id_number, employer_name, employer_code, specialties, valid_from, valid_until, status, cancel_reason, cancelled_on`

func scanRegistration(row interface{ Scan(...any) error }) (registration.Registration, error) {
	var reg registration.Registration
	var specs, status string
	err := row.Scan(&reg.Number, &reg.IDNumber, &reg.Employer.Name, &reg.Employer.CreditCode, &specs,
		&reg.ValidFrom, &reg.ValidUntil, &status, &reg.CancelReason, &reg.CancelledOn)
	if err != nil {
		return reg, err
	}
	reg.Status = registration.RegistrationStatus(status)
	if err := json.Unmarshal([]byte(specs), &reg.Specialties); err != nil {
		return reg, fmt.Errorf("registration %s: stored specialties: %w", reg.Number, err)
	}
	return reg, nil
}

// Registration returns the registration with the given number.
func (r *Registry) Registration(ctx context.Context, number string) (registration.Registration, error) {
	reg, err := scanRegistration(r.queryRow(ctx, `SELECT `+regColumns+` FROM registrations WHERE number = ?`, number))
	if errors.Is(err, sql.ErrNoRows) {
		return reg, fmt.Errorf("registration %s: %w", number, ErrNotFound)
	}
	if err != nil {
		return reg, fmt.Errorf("registry: registration %s: %w", number, err)
	}
	return reg, nil
}

// RegistrationToIssue returns a registration and the latest recorded
// version of certificate certNo (0: none yet) in one query.
func (r *Registry) RegistrationToIssue(ctx context.Context, number, certNo string) (registration.Registration, int, error) {
	var latest sql.NullInt64
	row := r.queryRow(ctx, `SELECT `+regColumns+`, (SELECT MAX(version) FROM certificates WHERE certificate_no = ?)
		FROM registrations WHERE number = ?`, certNo, number)
	reg, err := scanRegistration(scanAlso{row, []any{&latest}})
	if errors.Is(err, sql.ErrNoRows) {
		return reg, 0, fmt.Errorf("registration %s: %w", number, ErrNotFound)
	}
	if err != nil {
		return reg, 0, fmt.Errorf("registry: registration %s: %w", number, err)
	}
	return reg, int(latest.Int64), nil
}

// scanAlso scans a row with more columns than a scan function knows,
// into extra.
type scanAlso struct {
	row   interface{ Scan(...any) error }
	extra []any
}

func (s scanAlso) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra...)...) }

// RegistrationsOf returns every registration held by the person with idNumber.
func (r *Registry) RegistrationsOf(ctx context.Context, idNumber string) ([]registration.Registration, error) {
	return r.queryRegistrations(ctx, `SELECT `+regColumns+` FROM registrations WHERE id_number = ? ORDER BY number`, idNumber)
}

// ActiveExpiredBefore returns active registrations whose stored valid-until is
// before day, candidates for automatic cancellation (the caller applies policy
// extensions, which may keep some alive).
func (r *Registry) ActiveExpiredBefore(ctx context.Context, day registration.Date) ([]registration.Registration, error) {
	return r.queryRegistrations(ctx, `SELECT `+regColumns+` FROM registrations WHERE status = ? AND valid_until < ? ORDER BY number`,
		string(registration.RegistrationActive), day)
}

func (r *Registry) queryRegistrations(ctx context.Context, query string, args ...any) ([]registration.Registration, error) {
	rows, err := r.db.QueryContext(ctx, r.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("registry: registrations: %w", err)
	}
	defer rows.Close()
	var out []registration.Registration
	for rows.Next() {
		reg, err := scanRegistration(rows)
		if err != nil {
			return nil, fmt.Errorf("registry: registrations: %w", err)
		}
		out = append(out, reg)
	}
	return out, rows.Err()
}

// CancelRegistration marks an active registration cancelled with a reason,
// marks its valid certificates 04 (注销) and writes an audit entry, in one
// transaction. Cancelling an already cancelled registration is a no-op.
func (r *Registry) CancelRegistration(ctx context.Context, number, reason string, on registration.Date, actor string) (bool, error) {
	var changed bool
	err := r.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, r.q(`UPDATE registrations SET status = ?, cancel_reason = ?, cancelled_on = ?, updated_at = ? WHERE number = ? AND status = ?`),
			string(registration.RegistrationCancelled), reason, on, r.now().UTC(), number, string(registration.RegistrationActive))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		if changed = n > 0; !changed {
			return nil
		}
		// The registration's certificates stop being valid with it (04 注销),
		// and so do their status list entries and their copies'.
		if err := r.setEntriesIn(ctx, tx, EntryInvalid, entriesOfRegistration, number, string(registration.CertValid)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, r.q(`UPDATE certificates SET status = ?, status_changed_at = ?, status_reason = ?
			WHERE registration_number = ? AND status = ?`),
			string(registration.CertCancelled), r.now().UTC(), reason, number, string(registration.CertValid)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, r.q(`INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`),
			r.now().UTC(), actor, "registration.cancelled", number, reason)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("registry: cancel %s: %w", number, err)
	}
	return changed, nil
}

// Qualifications returns the qualification-library entries of a person.
func (r *Registry) Qualifications(ctx context.Context, idNumber string) ([]registration.Qualification, error) {
	rows, err := r.db.QueryContext(ctx, r.q(`SELECT certificate_no, id_number, specialty, approval_date, issue_date FROM qualifications WHERE id_number = ? ORDER BY certificate_no`), idNumber)
	if err != nil {
		return nil, fmt.Errorf("registry: qualifications: %w", err)
	}
	defer rows.Close()
	var out []registration.Qualification
	for rows.Next() {
		var q registration.Qualification
		if err := rows.Scan(&q.CertificateNo, &q.IDNumber, &q.Specialty, &q.ApprovalDate, &q.IssueDate); err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, rows.Err()
}

// Person returns the name and ID-derived facts of a person.
func (r *Registry) Person(ctx context.Context, idNumber string) (registration.Person, error) {
	var p registration.Person
	err := r.db.QueryRowContext(ctx, r.q(`SELECT id_number, name, phone FROM persons WHERE id_number = ?`), idNumber).Scan(&p.IDNumber, &p.Name, &p.Phone)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("person %s: %w", registration.MaskID(idNumber), ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("registry: person: %w", err)
	}
	p.ID, err = registration.ParseIDNumber(p.IDNumber)
	return p, err
}
