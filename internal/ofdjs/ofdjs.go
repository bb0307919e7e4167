// Package ofdjs opens OFD documents in ofd.js (an OFD reader we did not
// write, installed by scripts/deps.sh) inside headless Chromium, for tests
// that check our OFD output with an independent implementation.
package ofdjs

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
)

// ofdJSPath finds ofd.js 0.2.6, which scripts/deps.sh installs with npm.
func scriptPath(t testing.TB) string {
	t.Helper()
	p := os.Getenv("ECERT_OFDJS")
	if p == "" {
		home, _ := os.UserHomeDir()
		p = filepath.Join(home, ".cache/ecert/npm/node_modules/ofd.js/lib/ofd.umd.min.js")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("ofd.js not found at %s (scripts/deps.sh installs it; or set ECERT_OFDJS): %v", p, err)
	}
	return p
}

const ofdjsPage = `<!DOCTYPE html><html><head><meta charset="utf-8"><script src="/ofd.js"></script></head>
<body style="margin:0"><div id="page"></div><script>
function report(o) { fetch('/result', {method: 'POST', body: JSON.stringify(o)}); }
window.onerror = function (m) { report({error: String(m)}); };
ofd.parseOfdDocument({ofd: '/doc.ofd', success: function (res) {
  try {
    var divs = ofd.renderOfd(1123, res[0]);
    var p = document.getElementById('page');
    for (var i = 0; i < divs.length; i++) p.appendChild(divs[i]);
    var texts = [];
    p.querySelectorAll('text').forEach(function (e) { texts.push(e.textContent); });
    report({pages: divs.length, text: texts.join(''), images: p.querySelectorAll('img, image').length});
  } catch (e) { report({error: String(e) + ' ' + e.stack}); }
}, fail: function (e) { report({error: 'parse: ' + String(e)}); }});
</script></body></html>`

// Result is what ofd.js reported about a document.
type Result struct {
	Error  string `json:"error"`
	Pages  int    `json:"pages"`
	Text   string `json:"text"`
	Images int    `json:"images"`
}

// Open opens doc in ofd.js inside headless Chromium, returns what the
// reader reports, and writes a screenshot when shot is not empty.
func Open(t testing.TB, doc []byte, shot string) Result {
	t.Helper()
	chromium := testenv.Tool(t, "chromium")
	js, err := os.ReadFile(scriptPath(t))
	if err != nil {
		t.Fatal(err)
	}
	results := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, ofdjsPage)
		case "/ofd.js":
			w.Header().Set("Content-Type", "application/javascript")
			w.Write(js)
		case "/doc.ofd":
			w.Header().Set("Content-Type", "application/ofd")
			w.Write(doc)
		case "/result":
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			select {
			case results <- b:
			default:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "shot.png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--hide-scrollbars", "--window-size=1123,794",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--virtual-time-budget=20000", "--screenshot="+shot, srv.URL+"/")
	out, err := cmd.CombinedOutput()
	select {
	case b := <-results:
		var res Result
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("ofd.js result %q: %v", b, err)
		}
		return res
	default:
		t.Fatalf("ofd.js reported nothing (chromium: %v)\n%s", err, tail(out))
	}
	return Result{}
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
