package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
)

const exitRefused = 4

func init() {
	var (
		typ, idNumber, regNo, on, approval, account, specialty string
		asJSON                                                 bool
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Print the eligibility verdict for a proposed case, with every reason it would be refused",
		Long: `Applies every registration rule (renewal window, change window, age, qualification
library, account kind, policy extensions...) to a proposed case, using the
registration and qualification records in the registry.

Exit status: 0 allowed, 4 refused, 1 the check could not run.`,
		Example: `  ecert check --type renewal --id-number 210102198001010016 --on 2027-02-10
  ecert check --type change --registration 辽2212025000001 --id-number … --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bt, err := registration.ParseBusinessType(typ)
			if err != nil {
				return fmt.Errorf("--type: %w", err)
			}
			q := issuance.EligibilityQuery{Type: bt, Account: registration.AccountKind(account), IDNumber: idNumber,
				RegistrationNo: regNo, Specialty: specialty, SubmittedOn: registration.Today(time.Now())}
			if on != "" {
				if q.SubmittedOn, err = registration.ParseDate(on); err != nil {
					return fmt.Errorf("--on: %w", err)
				}
			}
			if approval != "" {
				if q.QuotedApprovalDate, err = registration.ParseDate(approval); err != nil {
					return fmt.Errorf("--approval-date: %w", err)
				}
			}
			reg, err := openRegistry(cmd.Context())
			if err != nil {
				return err
			}
			defer reg.Close()
			p, err := conf.Policy()
			if err != nil {
				return err
			}
			v, _, err := issuance.CheckEligibility(cmd.Context(), reg, p, q)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(v); err != nil {
					return err
				}
			} else {
				printVerdict(cmd.OutOrStdout(), v)
			}
			if !v.Allowed() {
				return &exitError{code: exitRefused}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "business type: initial, reregistration, add_specialty, renewal, change, cancellation, lost_reissue (or 初始注册, 延续注册 …)")
	f.StringVar(&idNumber, "id-number", "", "applicant's resident ID number")
	f.StringVar(&regNo, "registration", "", "registration number (default: the applicant's only registration, if any)")
	f.StringVar(&on, "on", "", "submission date YYYY-MM-DD (default: today in China Standard Time)")
	f.StringVar(&approval, "approval-date", "", "qualification approval date (批准日期) as quoted by the applicant")
	f.StringVar(&account, "account", string(registration.NaturalPerson), "submitting account: natural_person or enterprise")
	f.StringVar(&specialty, "specialty", "", "specialty applied for (initial, re-registration, add specialty)")
	f.BoolVar(&asJSON, "json", false, "print the verdict as JSON")
	_ = cmd.MarkFlagRequired("type")
	_ = cmd.MarkFlagRequired("id-number")
	rootCmd.AddCommand(cmd)
}

func printVerdict(w io.Writer, v registration.Verdict) {
	fmt.Fprintf(w, "%s，申报日期 %s", v.Type.Chinese(), v.SubmittedOn)
	if !v.ValidUntil.IsZero() {
		fmt.Fprintf(w, "，注册有效期至 %s", v.ValidUntil)
		if v.EffectiveValidUntil != v.ValidUntil {
			fmt.Fprintf(w, "（延期后 %s）", v.EffectiveValidUntil)
		}
	}
	fmt.Fprintln(w)
	if v.Allowed() {
		fmt.Fprintln(w, "  ✔ 可以申报 (allowed)")
		return
	}
	for _, r := range v.Refusals {
		fmt.Fprintf(w, "  ✘ [%s] %s\n", r.Code, r.Message)
	}
}
