package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/examples"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

func init() {
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the main job on embedded defaults: import approvals, check rules, issue, re-stamp and verify",
		Long: `Needs no servers: SQLite registry, certificate files and a development CA
under --data-dir, in-memory cache. Imports examples/approvals.ndjson
(embedded in the binary; two of its lines are deliberately bad), shows the
eligibility verdicts of proposed cases around the rules' boundary days and
which registrations automatic cancellation would end today, issues a signed
OFD and PDF certificate for every approval whose registration is still in
force today (the shipped examples age: the others are refused with the reason,
registration_expired, and their count grows with time), presses 加注 for a usage copy
(twice: the second press the same day returns the same copy; then for
another purpose, which makes another copy), verifies the files, and
writes them to <data-dir>/demo for you to open. Safe to run again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.OutOrStdout()
			slog.Warn("demo mode: embedded defaults (SQLite registry, local files); not a production configuration", "database", conf.DSN())
			reg, err := openRegistry(ctx)
			if err != nil {
				return err
			}
			defer reg.Close()

			fmt.Fprintf(out, "== 1. Import approved registrations (examples/approvals.ndjson → %s)\n", conf.DSN())
			s, err := runImport(ctx, reg, bytes.NewReader(examples.Approvals), int64(len(examples.Approvals)),
				importOptions{batch: 500, stderr: out, rejects: io.Discard})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%d lines: %d new, %d already present, %d rejected (%.0f records/s)\n\n", s.Lines, s.Inserted, s.Duplicate, s.Rejected, s.Rate)

			p, err := conf.Policy()
			if err != nil {
				return err
			}
			if err := demoVerdicts(cmd, reg, p); err != nil {
				return err
			}
			if err := demoExpiry(cmd, reg, p); err != nil {
				return err
			}
			reg.Close()
			return demoIssue(cmd)
		},
	}
	rootCmd.AddCommand(cmd)
}

func demoVerdicts(cmd *cobra.Command, reg *registry.Registry, p registration.Policy) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	// a: the first good record; old: a holder who turns 65 while registered.
	var a, old intake.Approval
	sc := intake.NewScanner(bytes.NewReader(examples.Approvals))
	for sc.Scan() {
		l := sc.Line()
		if l.Err != nil {
			continue
		}
		if a.CaseID == "" {
			a = l.Approval
		}
		id, _ := registration.ParseIDNumber(l.Approval.Person.IDNumber)
		b65 := id.Birthday(registration.MaxAge)
		if old.CaseID == "" && b65.After(l.Approval.Registration.ValidFrom) && b65.Before(l.Approval.Registration.ValidUntil.AddDays(-30)) {
			old = l.Approval
		}
	}
	r, err := reg.Registration(ctx, a.Registration.Number)
	if err != nil {
		return err
	}
	quals, err := reg.Qualifications(ctx, a.Person.IDNumber)
	if err != nil {
		return err
	}
	id, _ := registration.ParseIDNumber(a.Person.IDNumber)
	e := registration.EffectiveValidUntil(r, p.Extensions)
	fmt.Fprintf(out, "== 2. Eligibility of proposed cases for %s (ID %s), registration %s valid until %s\n",
		a.Person.Name, id.Masked(), r.Number, e)
	type scenario struct {
		label string
		in    registration.CheckInput
	}
	base := registration.CheckInput{Account: registration.NaturalPerson, IDNumber: a.Person.IDNumber, Registration: &r, Qualifications: quals}
	with := func(t registration.BusinessType, d registration.Date, f func(*registration.CheckInput)) registration.CheckInput {
		in := base
		in.Type, in.SubmittedOn = t, d
		if f != nil {
			f(&in)
		}
		return in
	}
	scenarios := []scenario{
		{"renewal 31 days before expiry", with(registration.Renewal, e.AddDays(-31), nil)},
		{"renewal 30 days before expiry", with(registration.Renewal, e.AddDays(-30), nil)},
		{"renewal 5 days before expiry", with(registration.Renewal, e.AddDays(-5), nil)},
		{"renewal 4 days before expiry", with(registration.Renewal, e.AddDays(-4), nil)},
		{"change 10 days before expiry", with(registration.Change, e.AddDays(-10), nil)},
		{"change 9 days before expiry", with(registration.Change, e.AddDays(-9), nil)},
		{"change from an enterprise account", with(registration.Change, e.AddDays(-100), func(in *registration.CheckInput) { in.Account = registration.Enterprise })},
		{"add specialty quoting the issue date", with(registration.AddSpecialty, e.AddDays(-100), func(in *registration.CheckInput) {
			if len(quals) > 0 {
				in.QuotedApprovalDate = quals[0].IssueDate
			}
		})},
	}
	if old.CaseID != "" {
		oldReg, err := reg.Registration(ctx, old.Registration.Number)
		if err != nil {
			return err
		}
		oldQuals, err := reg.Qualifications(ctx, old.Person.IDNumber)
		if err != nil {
			return err
		}
		oldID, _ := registration.ParseIDNumber(old.Person.IDNumber)
		b65 := oldID.Birthday(registration.MaxAge)
		older := func(d registration.Date) registration.CheckInput {
			return registration.CheckInput{Type: registration.Change, Account: registration.NaturalPerson, SubmittedOn: d,
				IDNumber: old.Person.IDNumber, Registration: &oldReg, Qualifications: oldQuals}
		}
		scenarios = append(scenarios,
			scenario{fmt.Sprintf("change by %s (ID %s) on the 65th birthday", old.Person.Name, oldID.Masked()), older(b65)},
			scenario{fmt.Sprintf("change by %s the day after the 65th birthday", old.Person.Name), older(b65.AddDays(1))})
	}
	for _, s := range scenarios {
		fmt.Fprintf(out, "-- %s:\n", s.label)
		v := registration.Check(s.in, p)
		printVerdict(out, v)
	}
	fmt.Fprintln(out)
	return nil
}

func demoExpiry(cmd *cobra.Command, reg *registry.Registry, p registration.Policy) error {
	ctx, out := cmd.Context(), cmd.OutOrStdout()
	today := registration.Today(time.Now())
	cands, err := reg.ActiveExpiredBefore(ctx, today)
	if err != nil {
		return err
	}
	due := registration.DueForCancellation(cands, today, p.Extensions)
	fmt.Fprintf(out, "== 3. Automatic cancellation as of %s: %d registrations due (dry run; `ecert expire` applies it)\n", today, len(due))
	for i, c := range due {
		if i == 5 {
			fmt.Fprintf(out, "   … and %d more\n", len(due)-5)
			break
		}
		fmt.Fprintf(out, "   %s  valid until %s → cancelled as of %s: %s\n", c.Number, c.EffectiveValidUntil, c.CancelOn, c.Reason)
	}
	return nil
}
