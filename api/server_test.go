package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// TestLogsHoldNoSecrets drives requests that carry a token, an API key and
// full ID numbers everywhere a client can put them, and reads every log line.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	tok := token(t, holderA)
	e.get("/api/v1/me/certificates", bearer(tok))
	e.get("/api/v1/me/certificates/"+certA+"/file?format=pdf", bearer(tok))
	e.get("/api/v1/me/certificates/"+holderA+"/file", bearer(tok))
	e.do(req{method: "POST", path: "/api/v1/me/certificates/" + certA + "/restamp?format=pdf&purpose=" + holderA, header: bearer(tok)})
	e.get("/api/v1/me/certificates", bearer(tok+"x"))
	e.get("/api/v1/cases/"+holderA, map[string]string{"X-API-Key": testAPIKey, "X-Request-ID": holderA})
	e.get("/api/v1/cases/BJ-1", map[string]string{"Authorization": "ApiKey " + testAPIKey + "wrong"})
	e.do(req{method: "POST", path: "/api/v1/approvals", body: strings.NewReader(`{"id_number":"` + holderA + `"}` + "\n"),
		header: map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/x-ndjson"}})
	e.do(req{method: "POST", path: "/api/v1/certificates/" + certA + "/revoke", body: strings.NewReader(`{"reason":"冒用 ` + holderB + `"}`),
		header: map[string]string{"X-API-Key": testAPIKey, "Content-Type": "application/json"}})
	e.get("/api/v1/verify/"+licenceA+"?code="+goodCode, nil)

	logs := e.logs.String()
	for _, secret := range []string{tok, tok[strings.LastIndex(tok, ".")+1:], testAPIKey, holderA, holderB, goodCode} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %.20s…", secret)
		}
	}
	if strings.Contains(e.auditor.all(), holderA) || strings.Contains(e.auditor.all(), holderB) {
		t.Errorf("audit entries hold a full ID number: %s", e.auditor.all())
	}
	var line struct {
		Msg       string `json:"msg"`
		RequestID string `json:"request_id"`
		Route     string `json:"route"`
		Status    int    `json:"status"`
	}
	n := 0
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if line.Msg == "http request" {
			n++
			if line.RequestID == "" || line.Route == "" || line.Status == 0 {
				t.Errorf("access log line lacks fields: %s", l)
			}
		}
	}
	if n != 10 {
		t.Errorf("%d access log lines, want 10", n)
	}
}

func TestRecoveryIsProblem(t *testing.T) {
	e := newEnv(t, func(_ *Config, d *Deps) { d.Cases = panicCases{} })
	w := e.get("/api/v1/cases/BJ-1", apiKey())
	if p := problemOf(t, w); w.Code != 500 || p.Code != CodeInternal {
		t.Errorf("%d %+v", w.Code, p)
	}
	if strings.Contains(e.logs.String(), holderA) || !strings.Contains(e.logs.String(), `"msg":"panic"`) {
		t.Errorf("panic log: %s", e.logs.String())
	}
}

type panicCases struct{}

func (panicCases) Case(context.Context, string) (registration.Case, *registry.Certificate, error) {
	panic("case of " + holderA)
}

// TestSlowClients: the http.Server from NewHTTPServer cuts off a client
// that trickles its headers or its body, and keeps serving others.
func TestSlowClients(t *testing.T) {
	e := newEnv(t)
	cfg := Config{Server: ServerTimeouts{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewHTTPServer(ln.Addr().String(), e.srv.Handler(), cfg)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if srv.MaxHeaderBytes != 16<<10 || srv.IdleTimeout == 0 || srv.WriteTimeout == 0 {
		t.Errorf("server limits: %+v", srv)
	}

	tests := []struct {
		name, send string
	}{
		{"headers never end", "GET /healthz HTTP/1.1\r\nHost: x\r\n"},
		{"body never ends", "POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _ = io.WriteString(c, tc.send)
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			start := time.Now()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 400 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server kept the connection for %s", time.Since(start))
			}
		})
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server down after slow clients: %v", err)
	}
	resp.Body.Close()
}
