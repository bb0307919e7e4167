package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/claim"
	"github.com/ecert/ecert/signing/offline"
)

// The claim QR of an issued certificate, read by zbarimg from the page
// rendered at 100 dpi, verifies offline with ecert verify-qr: genuine, but
// without a status list its standing is unknown (exit 1); a changed
// character makes it invalid.
func TestVerifyQRReadsTheClaimFromThePage(t *testing.T) {
	bin := buildBinary(t)
	pdftoppm, zbarimg := testenv.Tool(t, "pdftoppm"), testenv.Tool(t, "zbarimg")
	dir := t.TempDir()
	a := sampledata.Generate(1, sampledata.Options{Seed: 23, Base: registration.Today(time.Now()).AddDays(-100)})[0]
	var buf bytes.Buffer
	json.NewEncoder(&buf).Encode(a)
	approvals := filepath.Join(dir, "a.ndjson")
	os.WriteFile(approvals, buf.Bytes(), 0o600)
	run := func(stdin string, args ...string) (string, int) {
		c := exec.Command(bin, args...)
		c.Env = append(os.Environ(), "ECERT_LOG_LEVEL=error", signing.EnvPassphrase+"=", signing.EnvPassphraseFile+"=", "ECERT_DATA_DIR=", "ECERT_DATABASE=")
		c.Dir = t.TempDir()
		c.Stdin = strings.NewReader(stdin)
		out, err := c.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			t.Logf("ecert %s: %s", args[0], ee.Stderr)
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	if out, code := run("", "--data-dir", dir, "issue", "-q", "--from", approvals); code != 0 {
		t.Fatalf("issue: %d\n%s", code, out)
	}
	pdf := exportCertificate(t, dir, a.CaseID)
	page := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command(pdftoppm, "-r", "100", "-png", "-singlefile", pdf, page).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	codes, err := exec.Command(zbarimg, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", page+".png").Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	var signed string
	for _, c := range strings.Split(strings.TrimSpace(string(codes)), "\n") {
		if strings.HasPrefix(c, claim.Prefix) {
			signed = c
		}
	}
	if signed == "" {
		t.Fatalf("no signed claim among the QR codes read at 100 dpi: %q", codes)
	}
	keys := filepath.Join(dir, "dev-keys")
	flags := []string{"verify-qr", "--trust", filepath.Join(keys, "root.pem"), "--issuers", filepath.Join(keys, "issuers")}
	out, code := run(string(codes), append(flags, "--json", "-")...)
	var reports []offline.Report
	if err := json.Unmarshal([]byte(out), &reports); err != nil || code != 1 || len(reports) != 1 {
		t.Fatalf("verify-qr - : exit %d, %v\n%s", code, err, out)
	}
	r := reports[0]
	if r.Verdict != offline.StatusUnknown || r.Claim == nil || r.Claim.MaskedID != registration.MaskID(a.Person.IDNumber) || r.Claim.HolderName != a.Person.Name {
		t.Fatalf("report %+v, want status-unknown for %s", r, registration.MaskID(a.Person.IDNumber))
	}
	if strings.Contains(out, a.Person.IDNumber) {
		t.Errorf("the report shows the full ID number")
	}
	tampered := []byte(signed)
	tampered[len(tampered)-5] ^= '0' ^ '1'
	if out, code := run("", append(flags, string(tampered))...); code != 1 || !strings.HasPrefix(out, "INVALID") {
		t.Errorf("tampered claim: exit %d\n%s", code, out)
	}
	if out, code := run("", "verify-qr", "--issuers", filepath.Join(dir, "missing.pem"), signed); code != 2 {
		t.Errorf("missing issuers file: exit %d\n%s", code, out)
	}
}
