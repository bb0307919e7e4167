package certgen

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
)

// fieldValues lists every value the certificate must show, exactly as printed.
func fieldValues(c *Certificate, verify string) []string {
	v := []string{c.HolderName, c.Gender, c.BirthDate.Chinese(), c.IDNumber, c.RegistrationNo, c.Employer,
		c.EmployerCreditCode, c.Authority, c.IssueDate.Chinese(), c.LicenceID, verify}
	for _, s := range c.Specialties {
		v = append(v, s.Name, s.ValidUntil.Chinese())
	}
	if c.VerifyCode != "" {
		v = append(v, c.VerifyCode)
	}
	if cp := c.Copy; cp != nil {
		v = append(v, "使用有效期："+cp.ValidFrom.Chinese()+"至"+cp.ValidUntil.Chinese(), cp.Serial, cp.Purpose)
	}
	return v
}

func renderPDFFile(t *testing.T, r *Renderer, c *Certificate) string {
	t.Helper()
	b, err := r.PDF(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	fn := filepath.Join(t.TempDir(), "cert.pdf")
	if err := os.WriteFile(fn, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return fn
}

func TestPDFTextRoundTrip(t *testing.T) {
	pdftotext := testenv.Tool(t, "pdftotext")
	qpdf := testenv.Tool(t, "qpdf")
	r := defaultRenderer(t)
	for _, name := range []string{"zhang.json", "wang-copy.json"} {
		t.Run(name, func(t *testing.T) {
			c := loadRecord(t, name)
			fn := renderPDFFile(t, r, c)
			out, err := exec.Command(pdftotext, "-enc", "UTF-8", fn, "-").Output()
			if err != nil {
				t.Fatalf("pdftotext: %v", err)
			}
			text := string(out)
			verify, _ := r.VerifyURL(c)
			for _, v := range fieldValues(c, verify) {
				if !strings.Contains(text, v) {
					t.Errorf("pdftotext output lacks %q\n%s", v, text)
				}
			}
			for _, rare := range []string{"𠮷", "堃", "䶮", "喆"} {
				if strings.Contains(c.HolderName+c.Employer, rare) && !strings.Contains(text, rare) {
					t.Errorf("rare character %s lost", rare)
				}
			}
			if out, err := exec.Command(qpdf, "--check", fn).CombinedOutput(); err != nil {
				t.Errorf("qpdf --check: %v\n%s", err, out)
			}
		})
	}
}

func TestPDFQRCodeDecodes(t *testing.T) {
	pdftoppm := testenv.Tool(t, "pdftoppm")
	zbarimg := testenv.Tool(t, "zbarimg")
	r := defaultRenderer(t)
	for _, name := range []string{"zhang.json", "wang-copy.json"} {
		c := loadRecord(t, name)
		fn := renderPDFFile(t, r, c)
		prefix := filepath.Join(t.TempDir(), "page")
		if out, err := exec.Command(pdftoppm, "-r", "150", "-png", "-singlefile", fn, prefix).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
		out, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", prefix+".png").Output()
		if err != nil {
			t.Fatalf("zbarimg found no QR code: %v", err)
		}
		want, _ := r.VerifyURL(c)
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s: QR decodes to %q, want %q", name, got, want)
		}
		if c.Copy != nil && !strings.Contains(want, "copy="+c.Copy.Serial) {
			t.Errorf("copy QR URL %q does not name the copy", want)
		}
		if c.VerifyURL == "" && !strings.Contains(want, "?code="+c.VerifyCode) {
			t.Errorf("derived QR URL %q lacks the verification code %s", want, c.VerifyCode)
		}
	}
}

// pdffonts (poppler) lists every font of the PDF as an embedded subset
// with a ToUnicode map.
func TestPDFFontsEmbeddedSubsets(t *testing.T) {
	pdffonts := testenv.Tool(t, "pdffonts")
	r := defaultRenderer(t)
	out, err := exec.Command(pdffonts, renderPDFFile(t, r, loadRecord(t, "zhang.json"))).Output()
	if err != nil {
		t.Fatalf("pdffonts: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2+3 { // header, rule, the three template fonts
		t.Fatalf("pdffonts lists %d lines, want 5:\n%s", len(lines), out)
	}
	for _, ln := range lines[2:] {
		f := strings.Fields(ln)
		// name type... encoding emb sub uni num gen
		if len(f) < 6 || f[len(f)-5] != "yes" || f[len(f)-4] != "yes" || f[len(f)-3] != "yes" || len(f[0]) < 8 || f[0][6] != '+' {
			t.Errorf("font not an embedded, named subset with ToUnicode: %q", ln)
		}
	}
}

// syntheticClaim returns n characters of the QR alphanumeric set, like a
// base45 claim (the real claim is tested end to end in issuance).
func syntheticClaim(n int) string {
	b := []byte("EC1:")
	for i := 0; len(b) < n; i++ {
		b = append(b, claimAlphabet[(i*7919+i/3)%len(claimAlphabet)])
	}
	return string(b)
}

// Both QR codes (the URL and the signed claim) decode from the page
// rendered at 150 dpi for every claim the template allows (up to version
// 22), and at 100 dpi up to version 18 (574 characters): the real claims
// (signing/claim) stay within that, worst case included.
func TestPDFClaimQRDecodes(t *testing.T) {
	pdftoppm := testenv.Tool(t, "pdftoppm")
	zbarimg := testenv.Tool(t, "zbarimg")
	r := defaultRenderer(t)
	for _, name := range []string{"zhang.json", "wang-copy.json"} {
		for _, n := range []int{420, 574, maxClaimLen} {
			c := loadRecord(t, name)
			c.Claim = syntheticClaim(n)
			fn := renderPDFFile(t, r, c)
			for _, dpi := range []string{"150", "100"} {
				if dpi == "100" && n > 574 {
					continue
				}
				prefix := filepath.Join(t.TempDir(), "page")
				if out, err := exec.Command(pdftoppm, "-r", dpi, "-png", "-singlefile", fn, prefix).CombinedOutput(); err != nil {
					t.Fatalf("pdftoppm: %v\n%s", err, out)
				}
				out, _ := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", prefix+".png").Output()
				url, _ := r.VerifyURL(c)
				got := strings.Split(strings.TrimSpace(string(out)), "\n")
				if !slices.Contains(got, url) || !slices.Contains(got, c.Claim) {
					t.Errorf("%s, claim of %d characters, %s dpi: zbarimg read %q, want the URL and the claim", name, n, dpi, got)
				}
			}
		}
	}
}
