package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
)

// Outcome is what happened to one approval on intake.
type Outcome int

const (
	// Inserted: the case was new and its effects were recorded.
	Inserted Outcome = iota + 1
	// Duplicate: a case with this id was already recorded; nothing changed.
	Duplicate
	// Failed: the record could not be stored (see the error).
	Failed
)

// IntakeResult reports the outcome of one approval.
type IntakeResult struct {
	CaseID  string
	Outcome Outcome
	Err     error
}

// Intake records approvals idempotently by case id: a case already present is
// reported as Duplicate and changes nothing. Approvals are written in one
// transaction for speed; if that transaction fails, each approval is retried
// alone so one bad record never takes the others with it.
func (r *Registry) Intake(ctx context.Context, approvals []intake.Approval) []IntakeResult {
	res := make([]IntakeResult, len(approvals))
	err := r.tx(ctx, func(tx *sql.Tx) error {
		st, err := r.prepareIntake(ctx, tx)
		if err != nil {
			return err
		}
		defer st.close()
		for i := range approvals {
			o, err := r.intakeOne(ctx, st, &approvals[i])
			if err != nil {
				return err
			}
			res[i] = IntakeResult{CaseID: approvals[i].CaseID, Outcome: o}
		}
		return nil
	})
	if err == nil || len(approvals) == 1 || ctx.Err() != nil {
		if err != nil {
			for i := range res {
				res[i] = IntakeResult{CaseID: approvals[i].CaseID, Outcome: Failed, Err: err}
			}
		}
		return res
	}
	for i := range approvals {
		res[i] = r.Intake(ctx, approvals[i:i+1])[0]
	}
	return res
}

type intakeStmts struct {
	person, caseIns, regUpsert, regCancel, qual, audit *sql.Stmt
}

func (s *intakeStmts) close() {
	for _, st := range []*sql.Stmt{s.person, s.caseIns, s.regUpsert, s.regCancel, s.qual, s.audit} {
		if st != nil {
			st.Close()
		}
	}
}

func (r *Registry) prepareIntake(ctx context.Context, tx *sql.Tx) (*intakeStmts, error) {
	s := &intakeStmts{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.person, `INSERT INTO persons (id_number, name, gender, birth_date, phone, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id_number) DO UPDATE SET name = excluded.name, phone = excluded.phone, updated_at = excluded.updated_at`},
		{&s.caseIns, `INSERT INTO cases (case_id, business_type, status, id_number, registration_number, approved_on, notice_end, record, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING`},
		{&s.regUpsert, `INSERT INTO registrations (number, id_number, employer_name, employer_code, specialties, valid_from, valid_until, status, cancel_reason, cancelled_on, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', NULL, ?)
			ON CONFLICT (number) DO UPDATE SET employer_name = excluded.employer_name, employer_code = excluded.employer_code,
				specialties = excluded.specialties, valid_from = excluded.valid_from, valid_until = excluded.valid_until,
				status = excluded.status, cancel_reason = '', cancelled_on = NULL, updated_at = excluded.updated_at
			WHERE registrations.id_number = excluded.id_number`},
		{&s.regCancel, `UPDATE registrations SET status = ?, cancel_reason = ?, cancelled_on = ?, updated_at = ? WHERE number = ? AND id_number = ?`},
		{&s.qual, `INSERT INTO qualifications (certificate_no, id_number, specialty, approval_date, issue_date) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (certificate_no) DO NOTHING`},
		{&s.audit, `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`},
	} {
		st, err := tx.PrepareContext(ctx, r.q(p.sql))
		if err != nil {
			s.close()
			return nil, fmt.Errorf("registry: prepare intake: %w", err)
		}
		*p.dst = st
	}
	return s, nil
}

// ErrOwnerMismatch means an approval names a registration number held by another person.
var ErrOwnerMismatch = errors.New("registration number belongs to another person")

func (r *Registry) intakeOne(ctx context.Context, st *intakeStmts, a *intake.Approval) (Outcome, error) {
	id, err := registration.ParseIDNumber(a.Person.IDNumber)
	if err != nil {
		return Failed, fmt.Errorf("case %s: %w", a.CaseID, err)
	}
	now := r.now().UTC()
	record, err := json.Marshal(a)
	if err != nil {
		return Failed, err
	}
	if _, err := st.person.ExecContext(ctx, id.String(), a.Person.Name, id.Gender.Chinese(), id.BirthDate, a.Person.Phone, now); err != nil {
		return Failed, fmt.Errorf("case %s: person: %w", a.CaseID, err)
	}
	var regNo any
	if a.Registration.Number != "" {
		regNo = a.Registration.Number
	}
	res, err := st.caseIns.ExecContext(ctx, a.CaseID, string(a.BusinessType), string(registration.CaseApproved), id.String(),
		regNo, a.ApprovedOn, a.NoticeEnd, string(record), now)
	if err != nil {
		return Failed, fmt.Errorf("case %s: %w", a.CaseID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Duplicate, nil
	}
	reg := a.Registration
	if a.BusinessType == registration.Cancellation {
		res, err = st.regCancel.ExecContext(ctx, string(registration.RegistrationCancelled), "注销注册（办件 "+a.CaseID+"）",
			a.ApprovedOn, now, reg.Number, id.String())
	} else {
		specs, mErr := json.Marshal(reg.Specialties)
		if mErr != nil {
			return Failed, mErr
		}
		res, err = st.regUpsert.ExecContext(ctx, reg.Number, id.String(), reg.Employer.Name, reg.Employer.CreditCode, string(specs),
			reg.ValidFrom, reg.ValidUntil, string(registration.RegistrationActive), now)
	}
	if err != nil {
		return Failed, fmt.Errorf("case %s: registration: %w", a.CaseID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Failed, fmt.Errorf("case %s: registration %s: %w", a.CaseID, reg.Number, ErrOwnerMismatch)
	}
	if q := a.Qualification; q != nil {
		if _, err := st.qual.ExecContext(ctx, q.CertificateNo, id.String(), q.Specialty, q.ApprovalDate, q.IssueDate); err != nil {
			return Failed, fmt.Errorf("case %s: qualification: %w", a.CaseID, err)
		}
	}
	if _, err := st.audit.ExecContext(ctx, now, "intake", "case.approved", a.CaseID,
		string(a.BusinessType)+" "+reg.Number); err != nil {
		return Failed, fmt.Errorf("case %s: audit: %w", a.CaseID, err)
	}
	return Inserted, nil
}

// CaseApproval returns the approval recorded for caseID.
func (r *Registry) CaseApproval(ctx context.Context, caseID string) (intake.Approval, error) {
	var raw string
	err := r.queryRow(ctx, `SELECT record FROM cases WHERE case_id = ?`, caseID).Scan(&raw)
	return decodeCase(caseID, raw, err)
}

// decodeCase turns a scanned case record (and the scan's error) into the
// approval, with the errors CaseApproval and CaseToIssue report.
func decodeCase(caseID, raw string, err error) (intake.Approval, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return intake.Approval{}, fmt.Errorf("case %s: %w", caseID, ErrNotFound)
	}
	if err != nil {
		return intake.Approval{}, fmt.Errorf("registry: case %s: %w", caseID, err)
	}
	var a intake.Approval
	if err := json.Unmarshal([]byte(raw), &a); err != nil {
		return intake.Approval{}, fmt.Errorf("registry: case %s: stored record: %w", caseID, err)
	}
	return a, nil
}

// CaseToIssue returns the approval of a case and whether a certificate has
// been recorded for it: the issuer's first two questions in one query
// (ErrNotFound if the case is unknown).
func (r *Registry) CaseToIssue(ctx context.Context, caseID string) (intake.Approval, bool, error) {
	var raw string
	var issued bool
	err := r.queryRow(ctx, `SELECT record, EXISTS (SELECT 1 FROM certificates c WHERE c.case_id = cases.case_id)
		FROM cases WHERE case_id = ?`, caseID).Scan(&raw, &issued)
	a, err := decodeCase(caseID, raw, err)
	return a, issued && err == nil, err
}

// Counts returns the number of rows per table, for reports and tests.
func (r *Registry) Counts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	for _, t := range []string{"persons", "qualifications", "registrations", "cases", "certificates", "usage_copies", "audit_log"} {
		var n int
		if err := r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return nil, fmt.Errorf("registry: count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}
