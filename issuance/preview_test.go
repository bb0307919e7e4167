package issuance_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
)

// svgText returns the characters of an SVG's <text> elements, in order.
func svgText(t *testing.T, b []byte) string {
	t.Helper()
	var s strings.Builder
	d := xml.NewDecoder(bytes.NewReader(b))
	in := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return s.String()
		}
		if err != nil {
			t.Fatalf("preview does not parse: %v", err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			in = e.Name.Local == "text"
		case xml.EndElement:
			in = false
		case xml.CharData:
			if in {
				s.Write(e)
			}
		}
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t, backends{})
	ctx := context.Background()
	as := approvals(2, 16)
	as[0].BusinessType, as[0].NoticeEnd = registration.Initial, registration.NewDate(2026, 3, 20)
	e.intake(t, as)
	r, err := e.svc.Issue(ctx, as[0].CaseID)
	if err != nil {
		t.Fatal(err)
	}
	cert := r.Certificate
	preview := func(holder string) ([]byte, error) { return e.svc.Preview(ctx, holder, cert.CertificateNo) }

	var ref *issuance.Refusal
	if _, err := preview(as[0].Person.IDNumber); !errors.As(err, &ref) || ref.Code != issuance.RefuseNoticeNotEnded {
		t.Fatalf("during public notice: %v, want %s", err, issuance.RefuseNoticeNotEnded)
	}
	e.clock.Set(time.Date(2026, 3, 21, 0, 0, 1, 0, registration.ChinaTZ))
	for _, holder := range []string{as[1].Person.IDNumber, ""} {
		if _, err := preview(holder); !errors.Is(err, issuance.ErrNotFound) {
			t.Fatalf("holder %q: %v, want ErrNotFound", holder, err)
		}
	}
	if _, err := e.svc.Preview(ctx, as[0].Person.IDNumber, "no-such-certificate"); !errors.Is(err, issuance.ErrNotFound) {
		t.Fatalf("unknown certificate: %v, want ErrNotFound", err)
	}
	b, err := preview(" " + strings.ToLower(as[0].Person.IDNumber) + " ")
	if err != nil {
		t.Fatal(err)
	}
	text := svgText(t, b)
	// The issued version's data and verification code, not a fresh one.
	for _, want := range []string{as[0].Person.Name, as[0].Registration.Number, cert.VerifyCode} {
		if !strings.Contains(text, want) {
			t.Errorf("preview text does not contain %q", want)
		}
	}
}
