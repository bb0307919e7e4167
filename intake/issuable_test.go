package intake_test

import (
	"strings"
	"testing"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
)

// TestDecodeRefusesWhatCouldNeverBeIssued: values the certificate template
// refuses, or that would make a record unreachable, are refused at intake
// with the field named, not accepted and left to fail issuance for good.
func TestDecodeRefusesWhatCouldNeverBeIssued(t *testing.T) {
	tests := []struct {
		name, want string
		f          func(m map[string]any)
	}{
		{"name with a leading space", "person.name: leading or trailing space", func(m map[string]any) { obj(m, "person")["name"] = " 张三" }},
		{"name with a trailing ideographic space", "person.name: leading or trailing space", func(m map[string]any) { obj(m, "person")["name"] = "张三\u3000" }},
		{"employer with a trailing space", "registration.employer.name: leading or trailing space", func(m map[string]any) {
			obj(m, "registration", "employer")["name"] = "辽宁省某建设集团有限公司 "
		}},
		{"phone with a trailing space", "person.phone: leading or trailing space", func(m map[string]any) { obj(m, "person")["phone"] = "13800000000 " }},
		{"lower-case check character", "person.id_number: write the check character X in upper case", func(m map[string]any) {
			obj(m, "person")["id_number"] = "21010219850716093x"
		}},
		{"ID number with a space", "person.id_number", func(m map[string]any) { obj(m, "person")["id_number"] = " 21010219850716093X" }},
		{"case id that is an ID number", "case_id: is a resident ID number", func(m map[string]any) { m["case_id"] = "21010219850716093X" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := intake.DecodeWith(mutateLine(t, tc.f), fixedDay)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "21010219850716093") {
				t.Fatalf("full ID number in %q", err)
			}
		})
	}
}

// renderable fails t if the certificate for an accepted record would be
// refused by the template: what intake accepts must be issuable.
func renderable(t *testing.T, a intake.Approval) {
	t.Helper()
	if a.BusinessType == registration.Cancellation {
		return
	}
	id, err := registration.ParseIDNumber(a.Person.IDNumber)
	if err != nil {
		t.Fatal(err)
	}
	c := certgen.Certificate{
		HolderName: a.Person.Name, Gender: id.Gender.Chinese(), BirthDate: id.BirthDate, IDNumber: a.Person.IDNumber,
		RegistrationNo: a.Registration.Number, Employer: a.Registration.Employer.Name,
		EmployerCreditCode: a.Registration.Employer.CreditCode, Authority: "辽宁省住房和城乡建设厅",
		IssueDate: a.ApprovedOn, LicenceID: "1.2.156.3005.2.11100000000013338W001.11210000MB0000000J.2112025000001.001.C",
	}
	for _, s := range a.Registration.Specialties {
		c.Specialties = append(c.Specialties, certgen.Specialty{Name: s.Name, ValidUntil: s.ValidUntil})
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("accepted record the certificate template refuses: %v", err)
	}
}
