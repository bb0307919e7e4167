package issuance_test

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ecert/ecert/internal/faultproxy"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// viaProxy points dsn at a fault proxy in front of its server.
func viaProxy(t *testing.T, dsn string) (string, *faultproxy.Proxy) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Fatalf("test PostgreSQL DSN needs host:port for the proxy: %q", dsn)
	}
	p := faultproxy.Start(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}

// logCount counts log records whose message contains a string.
type logCount struct {
	slog.Handler
	mu   sync.Mutex
	msgs map[string]int
}

func newLogCount() *logCount {
	return &logCount{Handler: slog.DiscardHandler, msgs: map[string]int{}}
}

func (l *logCount) Enabled(context.Context, slog.Level) bool { return true }

func (l *logCount) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs[r.Message]++
	l.mu.Unlock()
	return nil
}

func (l *logCount) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for m, c := range l.msgs {
		if strings.Contains(m, sub) {
			n += c
		}
	}
	return n
}

// serviceWith builds a second service over e's registry and store with cfg.
func serviceWith(t *testing.T, e *env, cfg issuance.Config) *issuance.Service {
	t.Helper()
	rnd, keys := parts(t)
	signer, err := keys.Signer()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Clock = e.clock.Now
	svc, err := issuance.New(context.Background(), cfg,
		issuance.Deps{Registry: e.reg, Store: e.store, Cache: e.cache, Renderer: rnd, Signer: signer, Metrics: issuance.NewMetrics(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// failing runs do for each item with n workers and returns the items it
// failed for.
func failing[T any](items []T, n int, do func(T) error) []T {
	work := make(chan T)
	var mu sync.Mutex
	var failed []T
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for it := range work {
				if err := do(it); err != nil {
					mu.Lock()
					failed = append(failed, it)
					mu.Unlock()
				}
			}
		})
	}
	for _, it := range items {
		work <- it
	}
	close(work)
	wg.Wait()
	return failed
}

// Issue item 12: a connection cut after PostgreSQL committed a certificate
// row made the issuer delete the files the row points at. Every recorded
// certificate must read back with its digest, however the connections were cut.
func TestIssueWithConnectionsCutKeepsEveryRecordedObject(t *testing.T) {
	direct := testenv.PostgresSchema(t)
	dsn, proxy := viaProxy(t, direct)
	e := newEnv(t, backends{dsn: dsn})
	as := approvals(200, 12)
	e.intake(t, as)
	logs := newLogCount()
	svc := serviceWith(t, e, issuance.Config{Logger: slog.New(logs)})

	pending := make([]string, len(as))
	for i, a := range as {
		pending[i] = a.CaseID
	}
	proxy.CutRandomly(0.04, 0)
	failures := 0
	for round := 1; len(pending) > 0; round++ {
		if round == 4 {
			proxy.CutRandomly(0, 0) // let the last rounds finish
		}
		if round > 8 {
			t.Fatalf("%d cases still not issued after %d rounds", len(pending), round-1)
		}
		pending = failing(pending, 8, func(c string) error {
			_, err := svc.Issue(context.Background(), c)
			return err
		})
		failures += len(pending)
	}
	t.Logf("%d connections cut, %d failed attempts re-run, %d rows found recorded behind an error",
		proxy.Cuts(), failures, logs.count("recorded although"))

	reg, err := registry.Open(context.Background(), direct, registry.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	dangling := danglingObjects(t, reg, e.store)
	if len(dangling) > 0 {
		t.Errorf("%d recorded objects do not read back, e.g. %s", len(dangling), dangling[0])
	}
	for _, a := range as {
		if _, err := reg.CertificateByCase(context.Background(), a.CaseID); err != nil {
			t.Fatalf("case %s: %v", a.CaseID, err)
		}
	}
}

// danglingObjects reads back every object a certificate row points at and
// lists those missing or with another digest than the row's.
func danglingObjects(t *testing.T, reg *registry.Registry, store objectstore.Store) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := reg.DB().QueryContext(ctx, `SELECT ofd_key, ofd_digest, pdf_key, pdf_digest FROM certificates`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var bad []string
	n := 0
	for rows.Next() {
		var k [4]string
		if err := rows.Scan(&k[0], &k[1], &k[2], &k[3]); err != nil {
			t.Fatal(err)
		}
		for _, o := range [][2]string{{k[0], k[1]}, {k[2], k[3]}} {
			n++
			info, err := objectstore.Verify(ctx, store, o[0])
			switch {
			case errors.Is(err, objectstore.ErrNotFound):
				bad = append(bad, o[0]+": missing")
			case err != nil:
				bad = append(bad, o[0]+": "+err.Error())
			case info.SHA256 != o[1]:
				bad = append(bad, o[0]+": digest "+info.SHA256+", recorded "+o[1])
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no certificate rows")
	}
	return bad
}
