package api_test

import (
	"image"
	stdpng "image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ecert/ecert/internal/testenv"
)

// claimOf renders page 1 of A's certificate PDF at 150 dpi and reads its
// QR codes with zbarimg, as an inspector's scanner would: it returns the
// signed claim and a picture of its QR code cut from the rendered page.
func claimOf(t *testing.T, s *site) (claim, png string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.base+"/api/v1/me/certificates/"+s.certA.CertificateNo+"/file?format=pdf", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tokA)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	pdf, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("A's certificate PDF: %s, %v", res.Status, err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cert.pdf"), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testenv.Tool(t, "pdftoppm"), "-r", "150", "-png", "-singlefile", "-f", "1",
		filepath.Join(dir, "cert.pdf"), filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	png = filepath.Join(dir, "page.png")
	codes, err := exec.Command(testenv.Tool(t, "zbarimg"), "--raw", "-q", "-Sdisable", "-Sqrcode.enable", png).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	for _, l := range strings.Split(string(codes), "\n") {
		if strings.HasPrefix(l, "EC1:") {
			return strings.TrimSpace(l), cropClaimCode(t, png)
		}
	}
	t.Fatalf("no EC1: claim among the page's QR codes: %q", codes)
	return "", ""
}

// cropClaimCode cuts the claim's QR code (the template's claim_qr box,
// 178-224 mm by 126-172 mm, with a margin) out of the page rendered at
// 150 dpi, as an inspector's photo of the code frames it. The wasm also
// finds the code on a whole page, by retrying enlarged quarters; that
// takes many seconds on a loaded machine, too slow for a test's deadline.
func cropClaimCode(t *testing.T, page string) string {
	t.Helper()
	f, err := os.Open(page)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := stdpng.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	px := func(mm float64) int { return int(mm * 150 / 25.4) }
	r := image.Rect(px(178)-40, px(126)-40, px(224)+40, px(172)+40).Intersect(img.Bounds())
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		t.Fatalf("page image %T cannot be cropped", img)
	}
	out := filepath.Join(filepath.Dir(page), "claim-code.png")
	w, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := stdpng.Encode(w, sub.SubImage(r)); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestVerifyOfflinePage verifies a certificate's signed QR claim in the
// browser: online once (the page caches the issuers, the root and the
// status list, the service worker the page and ecert.wasm), then with the
// server unreachable (from the caches, saying how old they are), from the
// rendered page's picture, a tampered claim, and after a revocation.
func TestVerifyOfflinePage(t *testing.T) {
	s := startSite(t)
	claim, png := claimOf(t, s)
	ctx := newBrowser(t)

	verifyText := func(what, text string) string {
		t.Helper()
		run(t, ctx, what,
			chromedp.Navigate(s.base+"/verify"),
			chromedp.WaitVisible(chromedp.CSS("#offline-form")),
			chromedp.Poll[chromedp.Void](`document.readyState === 'complete'`), // the deferred scripts have run
			chromedp.SetValue(chromedp.CSS("#claim"), text),
			chromedp.Click(chromedp.CSS("#offline-go")),
			chromedp.WaitVisible(chromedp.CSS("#offline-result")))
		return get(t, ctx, what+": verdict", chromedp.AttributeValue(chromedp.CSS("#offline-verdict"), "data-verdict")).Value
	}
	age := func(name string) string {
		return text(t, ctx, `#offline-ages li[data-age="`+name+`"]`)
	}

	// Online: the development root's variant of valid, shown as such.
	if v := verifyText("online", claim); v != "valid-development-root" {
		t.Fatalf("online: verdict %q, want valid-development-root\n%s", v, text(t, ctx, "#offline-result"))
	}
	if h := text(t, ctx, "#offline-title"); !strings.Contains(h, "开发测试用根证书") {
		t.Errorf("a development root is not said in the verdict: %q", h)
	}
	facts := text(t, ctx, "#offline-facts")
	for _, want := range []string{s.certA.RegistrationNo, s.certA.LicenceID, s.regA.Specialties[0].Name} {
		if !strings.Contains(facts, want) {
			t.Errorf("the claim's data lack %q:\n%s", want, facts)
		}
	}
	if strings.Contains(facts, s.certA.IDNumber) {
		t.Error("the full ID number is shown")
	}
	if a := age("network"); !strings.Contains(a, "已联网") {
		t.Errorf("online, the page says %q", a)
	}
	shot(t, ctx, "page-verify-offline-desktop")
	// The service worker holds the page and the verifier.
	cachedWasm := get(t, ctx, "service worker cache", chromedp.Evaluate[bool](`navigator.serviceWorker.ready
		.then(() => caches.open('ecert-verify-1')).then(c => c.match('/assets/ecert.wasm')).then(r => !!r)`, chromedp.EvalAwaitPromise))
	if !cachedWasm {
		t.Fatal("the service worker did not cache ecert.wasm")
	}

	// A picture of the claim's code: the wasm finds and decodes it.
	// The page's scripts are deferred: the file is chosen only once they have
	// run (readyState complete), else no change listener sees it. Then wait
	// for a result or for the page to say it found no code.
	run(t, ctx, "upload a picture of the claim's code",
		chromedp.Navigate(s.base+"/verify"),
		chromedp.Poll[chromedp.Void](`document.readyState === 'complete'`),
		chromedp.SetUploadFiles(chromedp.CSS("#claim-image"), []string{png}),
		chromedp.Poll[chromedp.Void](`!document.getElementById('offline-result').hidden ||
			/没有找到|无法识别/.test(document.getElementById('offline-sources').textContent)`))
	if msg := text(t, ctx, "#offline-sources"); strings.Contains(msg, "没有找到") || strings.Contains(msg, "无法识别") {
		t.Fatalf("the page did not decode the picture: %s", msg)
	}
	if v := get(t, ctx, "verdict", chromedp.AttributeValue(chromedp.CSS("#offline-verdict"), "data-verdict")).Value; v != "valid-development-root" {
		t.Errorf("from the picture: verdict %q\n%s", v, text(t, ctx, "#offline-result"))
	}
	if got := get(t, ctx, "decoded", chromedp.Evaluate[string](`document.getElementById('claim').value`)); got != claim {
		t.Errorf("decoded from the picture %q, want the claim zbarimg read", got)
	}

	// The server is unreachable: the page opens from the service worker and
	// decides from the cached copies, with their age.
	s.down.Store(true)
	width(t, ctx, 360)
	if v := verifyText("offline", claim); v != "valid-development-root" {
		t.Fatalf("offline: verdict %q\n%s", v, text(t, ctx, "#offline-result"))
	}
	if a := age("network"); !strings.Contains(a, "未联网") {
		t.Errorf("offline, the page says %q", a)
	}
	if a := age("list"); !strings.Contains(a, "签发于") || !strings.Contains(a, "分钟前") {
		t.Errorf("the status list's age is not shown: %q", a)
	}
	if a := age("issuers"); !strings.Contains(a, "取得") {
		t.Errorf("the issuer list's age is not shown: %q", a)
	}
	noOverflow(t, ctx, 360, "/verify offline result")
	shot(t, ctx, "page-verify-offline-phone")

	// One character changed: invalid.
	i := len(claim) / 2
	c := byte('0')
	if claim[i] == c {
		c = '1'
	}
	if v := verifyText("tampered", claim[:i]+string(c)+claim[i+1:]); v != "invalid" {
		t.Errorf("tampered claim: verdict %q", v)
	}
	shot(t, ctx, "page-verify-offline-invalid")

	// Revoked while the page was offline; online again, the page learns it.
	s.down.Store(false)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.base+"/api/v1/certificates/"+s.certA.CertificateNo+"/revoke",
		strings.NewReader(`{"reason":"以欺骗手段取得注册"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", s.apiKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %v %v", res, err)
	}
	res.Body.Close()
	width(t, ctx, 1280)
	if v := verifyText("after revocation", claim); v != "revoked" {
		t.Fatalf("after revocation: verdict %q\n%s", v, text(t, ctx, "#offline-result"))
	}
	if h := text(t, ctx, "#offline-title"); h != "已吊销或注销" {
		t.Errorf("revoked title %q", h)
	}
	shot(t, ctx, "page-verify-offline-revoked")
}
