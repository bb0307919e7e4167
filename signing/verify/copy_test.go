package verify_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/verify"
)

var (
	rendererOnce sync.Once
	renderer     *certgen.Renderer
	rendererErr  error
)

func testRenderer(t testing.TB) *certgen.Renderer {
	t.Helper()
	rendererOnce.Do(func() {
		renderer, rendererErr = certgen.NewDefault(certgen.Options{VerifyBaseURL: "https://ecert.example.gov.cn/v"})
	})
	if rendererErr != nil {
		t.Fatal(rendererErr)
	}
	return renderer
}

// certificate is a valid record; with copyFrom/copyUntil set it is a usage
// copy printing those dates.
func certificate(copyFrom, copyUntil string) *certgen.Certificate {
	c := &certgen.Certificate{
		HolderName: "王䶮喆", Gender: "女", BirthDate: registration.MustDate("1990-02-28"),
		IDNumber: "110105199002280047", RegistrationNo: "辽2212025000124",
		Employer: "沈阳喆堃建设工程有限公司", EmployerCreditCode: "91210100MA0ABCDE1X",
		Specialties: []certgen.Specialty{{Name: "公路工程", ValidUntil: registration.MustDate("2027-06-30")}},
		Authority:   "辽宁省住房和城乡建设厅", IssueDate: registration.MustDate("2025-07-01"),
		LicenceID: "1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K",
	}
	if copyFrom != "" {
		c.Copy = &certgen.UsageCopy{Serial: "C0123456789abcdef0123", ValidFrom: registration.MustDate(copyFrom),
			ValidUntil: registration.MustDate(copyUntil), Purpose: "投标（沈阳地铁六号线）"}
	}
	return c
}

// copyMeta is the signed metadata issuance writes for a usage copy.
func copyMeta(from, until string) map[string]string {
	return map[string]string{
		signing.MetaCertificateNo: "1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K",
		signing.MetaKind:          "usage-copy", signing.MetaCopyID: "C0123456789abcdef0123",
		signing.MetaParentCertificateNo: "1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K",
		signing.MetaUsageValidFrom:      from, signing.MetaUsageValidUntil: until,
	}
}

// rendered renders c with the real renderer and signs it the way issuance
// does (seal rectangles from the renderer, metadata in the signature).
func (f *fixture) rendered(t testing.TB, format string, c *certgen.Certificate, meta map[string]string) []byte {
	t.Helper()
	ctx := context.Background()
	rnd := testRenderer(t)
	switch format {
	case "pdf":
		doc, err := rnd.PDF(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		r := rnd.SealRectPDF()
		ap, err := pdfsig.NewAppearance(f.sealPNG(t))
		if err != nil {
			t.Fatal(err)
		}
		out, err := pdfsig.Sign(ctx, doc, f.ca.Signer, pdfsig.Options{
			Rect: [4]float64{r.X, r.Y, r.X + r.W, r.Y + r.H}, Reason: "电子注册证书签发", Location: "辽宁省沈阳市",
			Name: "辽宁省住房和城乡建设厅", Time: signTime, Appearance: ap, Metadata: meta,
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "ofd":
		doc, err := rnd.OFD(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		b := rnd.SealRect()
		out, err := ofdsig.Sign(ctx, doc, f.ca.Signer, f.seal, ofdsig.Options{Time: signTime, Boundary: [4]float64{b.X, b.Y, b.W, b.H}, Metadata: meta})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	t.Fatalf("format %q", format)
	return nil
}

func (f *fixture) sealPNG(t testing.TB) []byte {
	png, err := testRenderer(t).SealPNG("辽宁省住房和城乡建设厅")
	if err != nil {
		t.Fatal(err)
	}
	return png
}

var formats = []string{"pdf", "ofd"}

func TestPrintedUsageMatches(t *testing.T) {
	f := newFixture(t)
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			doc := f.rendered(t, format, certificate("2026-03-04", "2026-08-30"), copyMeta("2026-03-04", "2026-08-30"))
			r := verify.File(doc, f.opts)
			if !r.OK {
				t.Fatalf("%+v", r.Checks)
			}
			c, ok := r.Check(verify.CheckPrintedUsage)
			if !ok || !c.OK || !strings.Contains(c.Reason, "2026-03-04 – 2026-08-30") {
				t.Fatalf("printed check %+v (present %v)", c, ok)
			}
			if r.PrintedUsageValidFrom != "2026-03-04" || r.PrintedUsageValidUntil != "2026-08-30" {
				t.Fatalf("printed %s – %s", r.PrintedUsageValidFrom, r.PrintedUsageValidUntil)
			}
		})
	}
}

// TestPrintedUsageDiffers signs a copy printed with one pair of dates under
// metadata naming another: every other check passes, the printed one fails
// and names both pairs.
func TestPrintedUsageDiffers(t *testing.T) {
	f := newFixture(t)
	cases := []struct{ name, from, until string }{
		{"later end", "2026-03-04", "2026-12-31"},
		{"earlier start", "2026-03-01", "2026-08-30"},
	}
	for _, format := range formats {
		for _, tc := range cases {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				doc := f.rendered(t, format, certificate("2026-03-04", "2026-08-30"), copyMeta(tc.from, tc.until))
				r := verify.File(doc, f.opts)
				wantFail(t, r, verify.CheckPrintedUsage)
				c, _ := r.Check(verify.CheckPrintedUsage)
				for _, want := range []string{"2026-03-04 – 2026-08-30", tc.from + " – " + tc.until} {
					if !strings.Contains(c.Reason, want) {
						t.Errorf("reason %q does not name %q", c.Reason, want)
					}
				}
				for _, other := range r.Checks {
					if other.Name != verify.CheckPrintedUsage && !other.OK {
						t.Errorf("check %s failed too: %s", other.Name, other.Reason)
					}
				}
				if r.PrintedUsageValidFrom != "2026-03-04" || r.PrintedUsageValidUntil != "2026-08-30" {
					t.Errorf("printed %s – %s", r.PrintedUsageValidFrom, r.PrintedUsageValidUntil)
				}
			})
		}
	}
}

// TestPrintedUsageMissing: usage-copy metadata on a document that prints no
// usage validity (a rendered original, the plain test documents) fails.
func TestPrintedUsageMissing(t *testing.T) {
	f := newFixture(t)
	meta := copyMeta("2026-03-04", "2026-08-30")
	docs := map[string][]byte{
		"rendered original pdf": f.rendered(t, "pdf", certificate("", ""), meta),
		"rendered original ofd": f.rendered(t, "ofd", certificate("", ""), meta),
		"plain pdf":             f.pdf(t, f.ca.Signer, meta),
		"plain ofd":             f.ofd(t, f.ca.Signer, f.seal, meta),
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			r := verify.File(doc, f.opts)
			wantFail(t, r, verify.CheckPrintedUsage)
			c, _ := r.Check(verify.CheckPrintedUsage)
			if !strings.Contains(c.Reason, "no printed usage validity") || !strings.Contains(c.Reason, "2026-03-04 – 2026-08-30") {
				t.Errorf("reason %q", c.Reason)
			}
			if u, _ := r.Check(verify.CheckUsage); !u.OK {
				t.Errorf("usage-validity failed too: %s", u.Reason)
			}
		})
	}
}

// TestOriginalSkipsPrinted: an original (no usage metadata) passes and has
// no printed-usage-validity check.
func TestOriginalSkipsPrinted(t *testing.T) {
	f := newFixture(t)
	meta := map[string]string{signing.MetaCertificateNo: "1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K", signing.MetaKind: "original"}
	for _, format := range formats {
		for name, m := range map[string]map[string]string{"with metadata": meta, "without metadata": nil} {
			t.Run(format+"/"+name, func(t *testing.T) {
				r := verify.File(f.rendered(t, format, certificate("", ""), m), f.opts)
				if !r.OK {
					t.Fatalf("%+v", r.Checks)
				}
				if c, ok := r.Check(verify.CheckPrintedUsage); ok {
					t.Fatalf("original has check %+v", c)
				}
				if r.PrintedUsageValidFrom != "" {
					t.Fatalf("original reports printed dates %s", r.PrintedUsageValidFrom)
				}
			})
		}
	}
}

// TestPrintedUsageConflictingPurpose: a copy whose purpose line prints a
// second, different usage validity fails even though its annotation matches.
func TestPrintedUsageConflictingPurpose(t *testing.T) {
	f := newFixture(t)
	c := certificate("2026-03-04", "2026-08-30")
	c.Copy.Purpose = "使用有效期：2026年03月04日至2099年12月31日"
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			r := verify.File(f.rendered(t, format, c, copyMeta("2026-03-04", "2026-08-30")), f.opts)
			wantFail(t, r, verify.CheckPrintedUsage)
			ch, _ := r.Check(verify.CheckPrintedUsage)
			if !strings.Contains(ch.Reason, "2026-03-04 – 2099-12-31") {
				t.Errorf("reason %q", ch.Reason)
			}
		})
	}
}
