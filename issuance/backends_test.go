package issuance_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/cache"
	"github.com/ecert/ecert/storage/objectstore"
)

// productionBackends connects to the test MinIO, Redis and PostgreSQL servers,
// each test in its own bucket, key prefix and schema.
func productionBackends(t *testing.T) backends { return productionBackendsB(t) }

func productionBackendsB(t testing.TB) backends {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("iss%d", time.Now().UnixNano())
	mc := testenv.MinIOServer(t)
	store, err := objectstore.NewMinIO(ctx, objectstore.MinIOConfig{
		Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: "ecert-" + name,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// MinIO's force delete removes the bucket with every object version
		// in one request; left behind, benchmark buckets grew the test
		// server by gigabytes and its background scanner took CPU from
		// later measurements.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := store.Client().RemoveBucketWithOptions(ctx, store.Bucket(), minio.RemoveBucketOptions{ForceDelete: true}); err != nil {
			t.Logf("cleanup bucket %s: %v", store.Bucket(), err)
		}
	})
	rc, err := cache.NewRedis(cache.RedisConfig{Addrs: []string{testenv.RedisAddr(t)}, KeyPrefix: name + ":"})
	if err != nil {
		t.Fatal(err)
	}
	return backends{store: store, cache: rc, dsn: testenv.PostgresSchema(t)}
}

func TestRestampStormWithMinIORedisPostgres(t *testing.T) {
	restampStorm(t, newEnv(t, productionBackends(t)), 200)
}

func TestIssueWithMinIORedisPostgres(t *testing.T) {
	e := newEnv(t, productionBackends(t))
	as := approvals(5, 21)
	e.intake(t, as)
	for _, a := range as {
		res, err := e.svc.Issue(context.Background(), a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		if rep := e.verify(t, e.read(t, res.Certificate.OFDKey, res.Certificate.OFDSHA256)); !rep.OK {
			t.Fatalf("OFD from MinIO does not verify: %+v", rep.Checks)
		}
	}
}

// With the cache down, re-stamp still works, says so in a metric, and
// concurrent presses still yield exactly one valid copy (the registry decides).
func TestRestampWithoutCache(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close() // nothing listens here now: every cache call fails fast
	rc, err := cache.NewRedis(cache.RedisConfig{Addrs: []string{dead}, DialTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, backends{cache: rc})
	ctx := context.Background()
	a := approvals(1, 31)[0]
	a.BusinessType, a.NoticeEnd = registration.Renewal, registration.Date{}
	e.intake(t, []intake.Approval{a})
	res, err := e.svc.Issue(ctx, a.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	req := issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: res.Certificate.CertificateNo, Format: "ofd"}
	errs := make(chan error, 20)
	ids := make(chan string, 20)
	for range 20 {
		go func() {
			c, err := e.svc.Restamp(ctx, req)
			errs <- err
			ids <- c.CopyID
		}()
	}
	seen := map[string]bool{}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatalf("restamp with the cache down: %v", err)
		}
		seen[<-ids] = true
	}
	if len(seen) != 1 {
		t.Fatalf("%d different copies while the cache was down", len(seen))
	}
	if n, _ := e.reg.CountCopies(ctx, res.Certificate.CertificateNo); n != 1 {
		t.Fatalf("%d copies recorded", n)
	}
	if e.m.CacheUnavailable() == 0 {
		t.Fatal("cache outage not counted in ecert_restamp_cache_unavailable_total")
	}
	// The next press gets the same copy (from this process's answers: the
	// shared cache is still down) and makes none.
	c, err := e.svc.Restamp(ctx, req)
	if err != nil || c.Source == "created" || !seen[c.CopyID] {
		t.Fatalf("press after outage: %+v %v", c, err)
	}
	if strings.Contains(fmt.Sprint(err), a.Person.IDNumber) {
		t.Fatal("error leaks the ID number")
	}
}
