package intake_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// FuzzDecodeRoundTrip stores every line the decoder accepts in a real
// registry (SQLite, in memory) and reads it back: the case, the person, the
// registration, the qualification, and a certificate downloadable the day
// after the public notice, as issuance records it. Whatever intake accepts
// must be kept and read back unchanged, so no accepted value can poison a
// row.
func FuzzDecodeRoundTrip(f *testing.F) {
	valid := validLine(f)
	f.Add(valid)
	for _, s := range []string{
		`"notice_end":"9999-12-31"`, `"approved_on":"0000-01-01"`, `"valid_until":"2099-12-31"`,
		`"business_type":"cancellation"`, `"business_type":"renewal"`, `"name":"\u202e张"`, `"phone":"\u0000"`,
	} {
		key := s[:strings.Index(s, ":")+1]
		i := bytes.Index(valid, []byte(key))
		j := i + len(key) + bytes.IndexByte(valid[i+len(key)+1:], '"') + 2
		f.Add(append(append(append([]byte{}, valid[:i]...), s...), valid[j:]...))
	}
	f.Add([]byte("\xff\xfe"))
	ctx := context.Background()
	reg, err := registry.Open(ctx, ":memory:", registry.Options{Clock: fixedDay.Clock})
	if err != nil {
		f.Fatal(err)
	}
	defer reg.Close()
	f.Fuzz(func(t *testing.T, line []byte) {
		a, err := intake.DecodeWith(line, fixedDay)
		if err != nil {
			return
		}
		defer emptyRegistry(t, reg)
		res := reg.Intake(ctx, []intake.Approval{a})[0]
		if a.BusinessType == registration.Cancellation && errors.Is(res.Err, registry.ErrOwnerMismatch) {
			return // nothing to cancel in an empty registry
		}
		if res.Err != nil || res.Outcome != registry.Inserted {
			t.Fatalf("accepted line not recorded: %+v\n%q", res, line)
		}
		readBack(t, reg, a)
	})
}

func readBack(t *testing.T, reg *registry.Registry, a intake.Approval) {
	ctx := context.Background()
	got, err := reg.CaseApproval(ctx, a.CaseID)
	if err != nil {
		t.Fatalf("case unreadable: %v", err)
	}
	if !reflect.DeepEqual(got, a) {
		t.Fatalf("case read back changed:\n got %+v\nwant %+v", got, a)
	}
	p, err := reg.Person(ctx, a.Person.IDNumber)
	if err != nil || p.Name != a.Person.Name || p.Phone != a.Person.Phone {
		t.Fatalf("person read back: %+v, %v", p, err)
	}
	if a.Qualification != nil {
		qs, err := reg.Qualifications(ctx, a.Person.IDNumber)
		if err != nil || len(qs) != 1 || qs[0].ApprovalDate != a.Qualification.ApprovalDate || qs[0].IssueDate != a.Qualification.IssueDate ||
			qs[0].CertificateNo != a.Qualification.CertificateNo || qs[0].Specialty != a.Qualification.Specialty {
			t.Fatalf("qualification read back: %+v, %v", qs, err)
		}
	}
	if a.BusinessType == registration.Cancellation {
		return
	}
	r, err := reg.Registration(ctx, a.Registration.Number)
	if err != nil || r.ValidFrom != a.Registration.ValidFrom || r.ValidUntil != a.Registration.ValidUntil ||
		r.Employer != a.Registration.Employer || len(r.Specialties) != len(a.Registration.Specialties) {
		t.Fatalf("registration read back: %+v, %v", r, err)
	}
	from := registration.Date{}
	if !a.NoticeEnd.IsZero() {
		from = a.NoticeEnd.AddDays(1)
	}
	if err := reg.RecordCertificate(ctx, registry.Certificate{
		CertificateNo: "C1", Version: 1, LicenceID: "L1", RegistrationNo: a.Registration.Number, CaseID: a.CaseID,
		DownloadableFrom: from, OFDKey: "o", OFDSHA256: "00", PDFKey: "p", PDFSHA256: "00", SignerSerial: "1", IssuedAt: time.Now(),
	}); err != nil {
		t.Fatalf("certificate downloadable from %s not recorded: %v", from, err)
	}
	c, err := reg.CurrentCertificate(ctx, "C1")
	if err != nil || c.DownloadableFrom != from {
		t.Fatalf("certificate read back: %v, %v", c.DownloadableFrom, err)
	}
}

// emptyRegistry deletes every row, children first, for the next input.
func emptyRegistry(t *testing.T, reg *registry.Registry) {
	for _, table := range []string{"usage_copies", "certificates", "cases", "qualifications", "registrations", "persons", "audit_log"} {
		if _, err := reg.DB().Exec("DELETE FROM " + table); err != nil {
			t.Fatal(err)
		}
	}
}
