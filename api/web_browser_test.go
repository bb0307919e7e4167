package api_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/ecert/ecert/api"
	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/registry"
)

// screenshots is where TestPages writes its PNGs (docs/img to refresh the
// README's); ECERT_SCREENSHOTS sets it too.
var screenshots = flag.String("screenshots", os.Getenv("ECERT_SCREENSHOTS"), "write page screenshots to this directory")

// site is the real service on embedded defaults with three applicants:
// A holds an issued certificate, B one still under public notice (加注 is
// refused), C one that A must not reach.
type site struct {
	base         string
	tokA, tokB   string
	certA, certC registry.Certificate
	regB         string
	// regA is A's registration as the registry holds it.
	regA registration.Registration
	// regAUntil is its valid-until after policy extensions.
	regAUntil registration.Date
	// apiKey is the portal's API key (revocation).
	apiKey string
	// down makes the server drop every connection, as if unreachable.
	down atomic.Bool
}

func startSite(t *testing.T) *site {
	t.Helper()
	t.Setenv(signing.EnvPassphrase, "")
	t.Setenv(signing.EnvPassphraseFile, "")
	ctx := t.Context()
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.Open(ctx, app.Config{DataDir: dir, VerifyBaseURL: base + "/verify", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	dev, err := app.OpenDevPortal(dir)
	if err != nil {
		t.Fatal(err)
	}
	today := registration.Today(time.Now())
	recs := sampledata.Generate(3, sampledata.Options{Seed: 16, Prefix: "WEB", Base: today.AddDays(-60)})
	for i := range recs {
		recs[i].BusinessType, recs[i].NoticeEnd = registration.Change, registration.Date{}
	}
	recs[1].BusinessType, recs[1].NoticeEnd = registration.Initial, today.AddDays(7)
	for _, r := range a.Registry.Intake(ctx, recs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if _, err := a.Service.Issue(ctx, r.CaseID); err != nil {
			t.Fatalf("issue %s: %v", r.CaseID, err)
		}
	}
	deps := a.APIDeps()
	certOf := func(holder string) registry.Certificate {
		cs, err := deps.Holder.Certificates(ctx, holder)
		if err != nil || len(cs) == 0 {
			t.Fatalf("certificates of a test holder: %d, %v", len(cs), err)
		}
		return cs[0].Certificate
	}
	s := &site{base: base, certA: certOf(recs[0].Person.IDNumber), certC: certOf(recs[2].Person.IDNumber)}
	s.regB = certOf(recs[1].Person.IDNumber).RegistrationNo
	if s.regA, err = a.Registry.Registration(ctx, s.certA.RegistrationNo); err != nil || len(s.regA.Specialties) == 0 {
		t.Fatalf("A's registration: %+v, %v", s.regA, err)
	}
	s.regAUntil = registration.EffectiveValidUntil(s.regA, a.Policy.Extensions)
	if s.tokA, err = dev.Token(recs[0].Person.IDNumber, false, time.Hour); err != nil {
		t.Fatal(err)
	}
	if s.tokB, err = dev.Token(recs[1].Person.IDNumber, false, time.Hour); err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{Tokens: dev.TokenConfig(), APIKeys: []api.APIKey{api.NewAPIKey("dev-portal", dev.APIKey)}, Logger: log}
	srv, err := api.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	s.apiKey = dev.APIKey
	h := srv.Handler()
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.down.Load() {
			panic(http.ErrAbortHandler)
		}
		h.ServeHTTP(w, r)
	}))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	return s
}

// newBrowser starts Debian's Chromium headless with a fresh profile.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	chromium := testenv.Tool(t, "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	t.Cleanup(cancel)
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelA)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// run runs the steps in order and fails the test at the first error.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return get(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// shot writes a full-page screenshot when -screenshots is set.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if *screenshots == "" {
		return
	}
	png := get(t, ctx, "screenshot", chromedp.FullScreenshot(100))
	if err := os.MkdirAll(*screenshots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*screenshots, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// width sets the viewport width (CSS pixels).
func width(t *testing.T, ctx context.Context, w int64) {
	t.Helper()
	run(t, ctx, "viewport", chromedp.EmulateViewport(w, 900))
}

// noOverflow fails when the page is wider than the viewport.
func noOverflow(t *testing.T, ctx context.Context, w int, page string) {
	t.Helper()
	sw := get(t, ctx, "measure", chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if sw > w {
		t.Errorf("%s at %d px: scrollWidth %d overflows", page, w, sw)
	}
}

// waitFile waits for a finished download in dir.
func waitFile(t *testing.T, dir string) string {
	t.Helper()
	for range 200 {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			if !strings.HasSuffix(e.Name(), ".crdownload") {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no download arrived")
	return ""
}

// TestPages drives both pages in Chromium: sign in, 加注, download the copy,
// verify it, a tampered file, a QR link, another applicant's certificate,
// a refusal, and no horizontal overflow at 360 px.
func TestPages(t *testing.T) {
	start := time.Now()
	s := startSite(t)
	t.Logf("service up with 3 certificates in %v", time.Since(start).Round(time.Millisecond))
	ctx := newBrowser(t)
	dl := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl}); err != nil {
		t.Fatal(err)
	}

	// Sign in by pasting the development token.
	run(t, ctx, "sign in",
		chromedp.Navigate(s.base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")),
		chromedp.SendKeys(chromedp.CSS("#token"), s.tokA),
		chromedp.Click(chromedp.CSS("#signin-form button")),
		chromedp.WaitVisible(chromedp.CSS("#certs li")))
	list := text(t, ctx, "#certs")
	if b := text(t, ctx, "#certs li .badge"); b != "✔ 有效" {
		t.Errorf("status badge %q, want ✔ 有效", b)
	}
	if !strings.Contains(list, s.certA.RegistrationNo) {
		t.Fatalf("the list does not show %s:\n%s", s.certA.RegistrationNo, list)
	}
	if strings.Contains(list, s.certC.RegistrationNo) || strings.Contains(list, s.certC.CertificateNo) {
		t.Fatalf("the list shows another applicant's certificate:\n%s", list)
	}
	// Each registered specialty with its valid-until, and the registration's.
	card := `#certs li[data-certificate="` + s.certA.CertificateNo + `"] `
	specs := get(t, ctx, "specialties", chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+card+`.specialties li')].map(l => l.textContent)`))
	if len(specs) != len(s.regA.Specialties) {
		t.Errorf("specialties shown %q, want %d", specs, len(s.regA.Specialties))
	}
	for i, sp := range s.regA.Specialties {
		if want := sp.Name + " 有效期至 " + sp.ValidUntil.String(); i >= len(specs) || !strings.HasPrefix(specs[i], want) {
			t.Errorf("specialty %d shown as %q, want %q", i, specs, want)
		}
	}
	if u := text(t, ctx, card+`[data-f="registration_valid_until"]`); !strings.HasPrefix(u, s.regAUntil.String()) {
		t.Errorf("registration valid until %q, want %s", u, s.regAUntil)
	}
	// The certificate's preview picture, fetched with the token.
	img := card + `figure.preview img`
	previewLoaded := chromedp.Poll[chromedp.Void](`(i => i && i.complete && i.naturalWidth > 0)(document.querySelector('`+img+`'))`,
		chromedp.WithPollingTimeout(20*time.Second))
	run(t, ctx, "preview", previewLoaded)
	if alt := get(t, ctx, "preview alt", chromedp.Evaluate[string](`document.querySelector('`+img+`').alt`)); alt != "证书预览（注册编号 "+s.certA.RegistrationNo+"）" {
		t.Errorf("preview alt %q", alt)
	}
	// Another applicant's certificate is not reachable with this sign-in.
	status := get(t, ctx, "fetch another's file", chromedp.Evaluate[int](`fetch('/api/v1/me/certificates/`+s.certC.CertificateNo+`/file?format=pdf',
		{headers: {Authorization: 'Bearer ' + sessionStorage.getItem('ecert.token')}}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if status != http.StatusNotFound {
		t.Errorf("another applicant's certificate: status %d, want 404", status)
	}

	// 加注 with a purpose, then download the copy.
	run(t, ctx, "加注",
		chromedp.SendKeys(chromedp.CSS(card+`input[name=purpose]`), "投标"),
		chromedp.Click(chromedp.CSS(card+`form.restamp button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(card+`.outcome.good .validity`)))
	if v := text(t, ctx, card+".outcome .validity"); !strings.Contains(v, "使用有效期") || !strings.Contains(v, " 至 ") {
		t.Errorf("加注 outcome: %q", v)
	}
	run(t, ctx, "download copy", chromedp.Click(chromedp.CSS(card+`.outcome button[data-copy]`)))
	copyPath := waitFile(t, dl)
	if !strings.HasSuffix(copyPath, "-加注件.pdf") {
		t.Errorf("downloaded %s, want the name from Content-Disposition (…-加注件.pdf)", filepath.Base(copyPath))
	}
	shot(t, ctx, "page-me-desktop")
	width(t, ctx, 360)
	run(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#certs li")), previewLoaded)
	noOverflow(t, ctx, 360, "/me")
	shot(t, ctx, "page-me-phone")

	// A refusal: B's certificate is still under public notice.
	run(t, ctx, "sign in as B",
		chromedp.Navigate(s.base+"/me#token="+s.tokB),
		chromedp.WaitVisible(chromedp.CSS("#certs li")),
		chromedp.Click(chromedp.CSS(`#certs li form.restamp button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#certs li .outcome.bad`)))
	if r := text(t, ctx, "#certs li .outcome.bad"); !strings.Contains(r, "下一步") || !strings.Contains(r, "notice_not_ended") {
		t.Errorf("refusal shown as %q, want the reason, the code and what to do next", r)
	}
	frag := get(t, ctx, "fragment", chromedp.Evaluate[string](`location.hash`))
	if frag != "" {
		t.Errorf("the token stays in the address bar: %q", frag)
	}
	noOverflow(t, ctx, 360, "/me refusal")
	shot(t, ctx, "page-me-refusal")

	// The verification page: the downloaded copy is valid.
	width(t, ctx, 1280)
	verifyFile := func(path string) string {
		run(t, ctx, "verify "+filepath.Base(path),
			chromedp.Navigate(s.base+"/verify"),
			chromedp.WaitVisible(chromedp.CSS("#file-form")),
			chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path}),
			chromedp.Click(chromedp.CSS("#file-form button")),
			chromedp.WaitVisible(chromedp.CSS("#result")))
		return get(t, ctx, "verdict", chromedp.AttributeValue(chromedp.CSS("#verdict"), "data-verdict")).Value
	}
	if k := verifyFile(copyPath); k != "valid" {
		t.Fatalf("the downloaded copy: verdict %q, want valid (%s)", k, text(t, ctx, "#result"))
	}
	if h := text(t, ctx, "#verdict-title"); !strings.Contains(h, "有效") {
		t.Errorf("verdict title %q", h)
	}
	shot(t, ctx, "page-verify-desktop")

	// A tampered copy is invalid and the page names the failed check.
	data, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(data, []byte("/MediaBox"))
	if i < 0 {
		t.Fatal("no /MediaBox in the copy")
	}
	data[i+len("/MediaBox [0 0 ")] ^= 1 // a page dimension, inside the signed bytes
	tampered := filepath.Join(t.TempDir(), "tampered.pdf")
	if err := os.WriteFile(tampered, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if k := verifyFile(tampered); k != "invalid" {
		t.Fatalf("tampered copy: verdict %q, want invalid", k)
	}
	failed := get(t, ctx, "failed checks", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#checks li[data-status=fail]')].map(l => l.dataset.check)`))
	if len(failed) == 0 || !strings.Contains(text(t, ctx, "#checks"), "未通过") {
		t.Fatalf("no failed check shown for a tampered file: %s", text(t, ctx, "#checks"))
	}
	t.Logf("tampered file: failed checks %v", failed)
	shot(t, ctx, "page-verify-invalid")

	// A QR link opens the page with the lookup's verdict; at 360 px it fits.
	width(t, ctx, 360)
	run(t, ctx, "QR link",
		chromedp.Navigate(s.base+"/verify/"+s.certA.LicenceID+"?code="+s.certA.VerifyCode),
		chromedp.WaitVisible(chromedp.CSS("#result")))
	kind := get(t, ctx, "verdict", chromedp.AttributeValue(chromedp.CSS("#verdict"), "data-verdict")).Value
	if kind != "valid" || !strings.Contains(text(t, ctx, "#holder"), s.certA.RegistrationNo) {
		t.Errorf("QR link: verdict %q, %s", kind, text(t, ctx, "#result"))
	}
	if h := text(t, ctx, "#holder"); strings.Contains(h, s.certA.IDNumber) {
		t.Errorf("the holder's ID number is shown unmasked")
	}
	noOverflow(t, ctx, 360, "/verify QR result")
	shot(t, ctx, "page-verify-phone")
	run(t, ctx, "verify forms", chromedp.Navigate(s.base+"/verify"), chromedp.WaitVisible(chromedp.CSS("#file-form")))
	noOverflow(t, ctx, 360, "/verify")
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatal("browser test ran out of time")
	}
}
