// Package testenv gives integration tests the addresses of the real servers
// that `make test` starts (PostgreSQL, Redis, MinIO) and of the external
// tools they check our output with.
//
// Outside `make test` a missing server skips the test with a message saying
// how to start it. Under CI=true or ECERT_REQUIRE_SERVICES=1 a missing server
// or tool is a failure, never a skip.
package testenv

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
)

// Required reports whether missing services must fail tests instead of skipping them.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("ECERT_REQUIRE_SERVICES") == "1"
}

func need(t testing.TB, what, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is required here but %s is not set (run the tests with `make test`)", what, env)
	}
	t.Skipf("%s not available: set %s or run `make test` (or `make services-up` and source /tmp/ecert-dev-services/env)", what, env)
	return ""
}

// PostgresDSN returns the DSN of the test PostgreSQL server.
func PostgresDSN(t testing.TB) string { return need(t, "PostgreSQL", "ECERT_TEST_POSTGRES_DSN") }

// RedisAddr returns host:port of the test Redis server.
func RedisAddr(t testing.TB) string { return need(t, "Redis", "ECERT_TEST_REDIS_ADDR") }

// MinIO holds the endpoint and credentials of the test MinIO server.
type MinIO struct{ Endpoint, AccessKey, SecretKey string }

// MinIOServer returns the test MinIO server's endpoint and credentials.
func MinIOServer(t testing.TB) MinIO {
	return MinIO{
		Endpoint:  need(t, "MinIO", "ECERT_TEST_MINIO_ENDPOINT"),
		AccessKey: need(t, "MinIO", "ECERT_TEST_MINIO_ACCESS_KEY"),
		SecretKey: need(t, "MinIO", "ECERT_TEST_MINIO_SECRET_KEY"),
	}
}

// MinIOBinary returns the path of the MinIO server binary, for tests that run their own server.
func MinIOBinary(t testing.TB) string { return need(t, "MinIO server binary", "ECERT_TEST_MINIO_BIN") }

// RedisBinary returns the path of redis-server, for tests that run their own server.
func RedisBinary(t testing.TB) string { return need(t, "redis-server binary", "ECERT_TEST_REDIS_BIN") }

// Tool returns the path of an external command (pdftotext, qpdf, openssl,
// zbarimg, chromium...) used as an independent check of our output.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if Required() {
		t.Fatalf("%s is required here but not found on PATH (scripts/deps.sh installs it)", name)
	}
	t.Skipf("%s not installed: run scripts/deps.sh", name)
	return ""
}

// PostgresSchema creates a schema of its own on the test PostgreSQL server,
// drops it (with everything in it) when the test ends, and returns the
// server's DSN with that schema as its search path.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	name := fmt.Sprintf("t%d_%d", time.Now().UnixNano(), schemaSeq.Add(1))
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec("DROP SCHEMA " + name + " CASCADE")
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + name
}

var schemaSeq atomic.Int64
