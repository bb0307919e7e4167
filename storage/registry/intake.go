package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	// Conflict: a case with this id was already recorded with different
	// content; nothing changed. The error is a *ConflictError.
	Conflict
)

// ErrCaseConflict means a case id is already recorded with different content.
var ErrCaseConflict = errors.New("case id already recorded with different content")

// ConflictError names the fields in which an approval differs from the case
// recorded under the same id. It holds field names only, never values, which
// may be ID numbers, names or phone numbers.
type ConflictError struct {
	CaseID string
	Fields []string // JSON paths in the input format, e.g. "person.phone"
}

// Error names the case (an ID-number-shaped case id masked) and the fields.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("case %s: %v: %s differ; nothing changed",
		intake.MaskIDNumbers(e.CaseID), ErrCaseConflict, strings.Join(e.Fields, ", "))
}

func (e *ConflictError) Unwrap() error { return ErrCaseConflict }

// IntakeResult reports the outcome of one approval.
type IntakeResult struct {
	CaseID  string
	Outcome Outcome
	Err     error
}

// Intake records approvals idempotently by case id: a case already present
// with the same content is reported as Duplicate, one with different content
// as Conflict (naming the fields that differ), and neither changes anything. Approvals are written in one
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
			if err != nil && o != Conflict {
				return err
			}
			res[i] = IntakeResult{CaseID: approvals[i].CaseID, Outcome: o, Err: err}
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
	personIns, personUpd, caseIns, caseGet, regUpsert, regCancel, qual, audit *sql.Stmt
}

func (s *intakeStmts) close() {
	for _, st := range []*sql.Stmt{s.personIns, s.personUpd, s.caseIns, s.caseGet, s.regUpsert, s.regCancel, s.qual, s.audit} {
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
		{&s.personIns, `INSERT INTO persons (id_number, name, gender, birth_date, phone, updated_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (id_number) DO NOTHING`},
		{&s.personUpd, `UPDATE persons SET name = ?, phone = ?, updated_at = ? WHERE id_number = ?`},
		{&s.caseIns, `INSERT INTO cases (case_id, business_type, status, id_number, registration_number, approved_on, notice_end, record, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING`},
		{&s.caseGet, `SELECT record FROM cases WHERE case_id = ?`},
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
	// The case row is the idempotency key: it goes in before anything is
	// changed, so a case id already recorded (by an earlier run or a
	// concurrent one) touches nothing. The person must exist first (foreign
	// key), so a new person is inserted, an existing one left as it is here.
	person, err := st.personIns.ExecContext(ctx, id.String(), a.Person.Name, id.Gender.Chinese(), id.BirthDate, a.Person.Phone, now)
	if err != nil {
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
		return compareRecorded(ctx, st, a.CaseID, record)
	}
	// A new case for a known person carries the person's current name and
	// phone (a change of either comes with a new case).
	if n, _ := person.RowsAffected(); n == 0 {
		if _, err := st.personUpd.ExecContext(ctx, a.Person.Name, a.Person.Phone, now, id.String()); err != nil {
			return Failed, fmt.Errorf("case %s: person: %w", a.CaseID, err)
		}
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

// compareRecorded compares an approval (record, as intakeOne marshalled it)
// with the case already recorded under its id: Duplicate when they are
// equal, else Conflict with a *ConflictError naming the fields that differ.
func compareRecorded(ctx context.Context, st *intakeStmts, caseID string, record []byte) (Outcome, error) {
	var raw string
	if err := st.caseGet.QueryRowContext(ctx, caseID).Scan(&raw); err != nil {
		return Failed, fmt.Errorf("case %s: read recorded case: %w", caseID, err)
	}
	// Decoding and encoding again puts the stored record in today's form,
	// so that fields added since it was written do not count as changes.
	var old intake.Approval
	if err := json.Unmarshal([]byte(raw), &old); err != nil {
		return Failed, fmt.Errorf("registry: case %s: stored record: %w", caseID, err)
	}
	recorded, err := json.Marshal(old)
	if err != nil {
		return Failed, err
	}
	if string(recorded) == string(record) {
		return Duplicate, nil
	}
	var x, y any
	if err := errors.Join(json.Unmarshal(recorded, &x), json.Unmarshal(record, &y)); err != nil {
		return Failed, fmt.Errorf("case %s: compare: %w", caseID, err)
	}
	fields := diffJSON("", x, y, nil)
	if len(fields) == 0 {
		return Duplicate, nil
	}
	return Conflict, &ConflictError{CaseID: caseID, Fields: fields}
}

// diffJSON appends to out the paths (person.phone, registration.specialties[0].name)
// at which two decoded JSON values differ, objects' keys in sorted order.
func diffJSON(path string, x, y any, out []string) []string {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok {
			return append(out, path)
		}
		keys := make([]string, 0, len(xv)+len(yv))
		for k := range xv {
			keys = append(keys, k)
		}
		for k := range yv {
			if _, ok := xv[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			out = diffJSON(p, xv[k], yv[k], out)
		}
		return out
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return append(out, path)
		}
		for i := range xv {
			out = diffJSON(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i], out)
		}
		return out
	default:
		if x != y {
			return append(out, path)
		}
		return out
	}
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
