package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"mime/multipart"
	"net/http"
	"net/url"
	"time"

	"github.com/ecert/ecert/internal/loadgen"
)

// purpose is the 用途 of every re-stamp of the run.
const purpose = "投标"

// scenario is one measured load.
type scenario struct {
	name, target string
	run          func(ctx context.Context, d time.Duration) loadgen.Result
}

// measureAll presses 加注 once for every certificate (so the timed
// re-stamps are cache hits), then runs the scenarios o.runs times and
// prints a table row for each run.
func measureAll(ctx context.Context, o options, s *server, fx fixture) error {
	err := forEach(len(fx.certs), 8, func(i int) error { return s.restamp(ctx, fx.certs[i], "") })
	if err != nil {
		return fmt.Errorf("first re-stamps: %w", err)
	}
	uploads := make([]upload, len(fx.certs))
	for i, c := range fx.certs {
		if uploads[i], err = newUpload(c.pdf); err != nil {
			return err
		}
	}
	n := len(fx.certs)
	scenarios := []scenario{
		{"cached re-stamp (open loop)", "p99 ≤ 5 ms", func(ctx context.Context, d time.Duration) loadgen.Result {
			return loadgen.OpenLoop(ctx, o.rate, d, func(ctx context.Context, i int) error {
				return s.restamp(ctx, fx.certs[i%n], "cache")
			})
		}},
		{"verify by licence id (open loop)", "p99 ≤ 10 ms", func(ctx context.Context, d time.Duration) loadgen.Result {
			return loadgen.OpenLoop(ctx, o.rate, d, func(ctx context.Context, i int) error {
				return s.lookup(ctx, fx.certs[i%n])
			})
		}},
		{"status list, whole token (open loop)", "p99 ≤ 5 ms", func(ctx context.Context, d time.Duration) loadgen.Result {
			return loadgen.OpenLoop(ctx, o.rate, d, func(ctx context.Context, i int) error {
				return s.statusList(ctx, "1")
			})
		}},
		{fmt.Sprintf("upload verify PDF (%d clients)", o.clients), "≥ 500 files/s", func(ctx context.Context, d time.Duration) loadgen.Result {
			return loadgen.ClosedLoop(ctx, o.clients, d, func(ctx context.Context, i int) error {
				return s.verifyUpload(ctx, uploads[i%n])
			})
		}},
	}
	// Warm up: the server's connection pools, prepared statements and
	// in-process caches fill under the real load (a new PostgreSQL
	// connection prepares each statement again), as in a server that has
	// been up for a while; then measure the steady state.
	for _, sc := range scenarios {
		if o.warmup <= 0 {
			break
		}
		if r := sc.run(ctx, o.warmup); r.FirstErr != nil {
			return fmt.Errorf("warm-up of %s: %d errors, the first: %w", sc.name, r.Errors, r.FirstErr)
		}
	}
	fmt.Printf("\n%s backend, %d certificates, %v per scenario after %v of warm-up each, server pid %d, GOMAXPROCS of both = cores of the machine\n\n",
		o.backend, n, o.duration, o.warmup, s.pid())
	printHeader()
	for range o.runs {
		for _, sc := range scenarios {
			time.Sleep(o.settle)
			row, err := measure(ctx, s, sc, o.duration)
			if err != nil {
				return err
			}
			fmt.Println(row)
		}
	}
	return nil
}

func printHeader() {
	fmt.Println("| scenario | target | rate/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU µs/req (cores) | generator CPU µs/req (cores) | machine CPU (cores) | generator lag max ms |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
}

// measure runs sc and attributes CPU to the server process, this process
// and the whole machine over the run.
func measure(ctx context.Context, s *server, sc scenario, d time.Duration) (string, error) {
	srv0, err := loadgen.ProcessCPU(s.pid())
	if err != nil {
		return "", err
	}
	gen0, m0 := loadgen.SelfCPU(), loadgen.MachineCPU()
	r := sc.run(ctx, d)
	srv1, err := loadgen.ProcessCPU(s.pid())
	if err != nil {
		return "", err
	}
	gen, srv, machine := loadgen.SelfCPU()-gen0, srv1-srv0, loadgen.MachineCPU()-m0
	if r.FirstErr != nil {
		log.Printf("%s: %d errors, the first: %v", sc.name, r.Errors, r.FirstErr)
	}
	return fmt.Sprintf("| %s | %s | %.0f | %s | %s | %s | %s | %d | %s | %s | %.2f | %s |", sc.name, sc.target, r.Rate(),
		ms(r.Percentile(0.5)), ms(r.Percentile(0.9)), ms(r.Percentile(0.99)), ms(r.Percentile(1)), r.Errors,
		perRequest(srv, r), perRequest(gen, r), cores(machine, r.Wall), ms(r.MaxLag)), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func cores(cpu, wall time.Duration) float64 { return cpu.Seconds() / wall.Seconds() }

func perRequest(cpu time.Duration, r loadgen.Result) string {
	n := max(len(r.Latencies), 1)
	return fmt.Sprintf("%.0f (%.2f)", float64(cpu.Microseconds())/float64(n), cores(cpu, r.Wall))
}

// restamp presses 加注 for c's PDF; wantSource, when set, is the copy's
// expected source ("cache").
func (s *server) restamp(ctx context.Context, c cert, wantSource string) error {
	u := s.base + "/api/v1/me/certificates/" + url.PathEscape(c.CertificateNo) + "/restamp?format=pdf&purpose=" + url.QueryEscape(purpose)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	body, err := s.do(req)
	if err != nil {
		return err
	}
	if wantSource != "" && !bytes.Contains(body, []byte(`"source":"`+wantSource+`"`)) {
		return fmt.Errorf("re-stamp %s: not from the %s: %.200s", c.CertificateNo, wantSource, body)
	}
	return nil
}

// lookup asks for c's status by licence id and verification code.
func (s *server) lookup(ctx context.Context, c cert) error {
	u := s.base + "/api/v1/verify/" + url.PathEscape(c.LicenceID) + "?code=" + url.QueryEscape(c.VerifyCode)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	_, err = s.do(req)
	return err
}

// statusList fetches the whole signed status list token (a verifier's
// first fetch or one after its copy expired; later fetches revalidate).
func (s *server) statusList(ctx context.Context, list string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/api/v1/status/"+url.PathEscape(list), nil)
	if err != nil {
		return err
	}
	body, err := s.do(req)
	if err == nil && len(body) == 0 {
		err = fmt.Errorf("status list %s: empty token", list)
	}
	return err
}

// upload is a prepared multipart body with one file.
type upload struct {
	body        []byte
	contentType string
}

func newUpload(pdf []byte) (upload, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("file", "certificate.pdf")
	if err != nil {
		return upload{}, err
	}
	if _, err := part.Write(pdf); err != nil {
		return upload{}, err
	}
	if err := w.Close(); err != nil {
		return upload{}, err
	}
	return upload{body: buf.Bytes(), contentType: w.FormDataContentType()}, nil
}

// verifyUpload posts a file to the public verification and wants a report
// in which every check passed.
func (s *server) verifyUpload(ctx context.Context, up upload) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/api/v1/verify", bytes.NewReader(up.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", up.contentType)
	body, err := s.do(req)
	if err != nil {
		return err
	}
	if !bytes.Contains(body, []byte(`"ok":true`)) {
		return fmt.Errorf("verify: not ok: %.300s", body)
	}
	return nil
}

// do sends req and wants 200; it returns the body.
func (s *server) do(req *http.Request) ([]byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("%s %s: %s: %.200s", req.Method, req.URL.Path, resp.Status, body)
	}
	return body, nil
}
