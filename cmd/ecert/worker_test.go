package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// buildBinary compiles ecert once per test process for the subprocess
// tests; the binary is removed by TestMain.
func buildBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "ecert-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "ecert")
		out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// TestWorkersAcrossProcessesSurviveAKill issues 1,000 approvals with 4 workers
// in 2 processes against the real PostgreSQL, Redis and MinIO, kills one
// process with SIGKILL in the middle, and checks that every case got exactly
// one verifiable certificate.
func TestWorkersAcrossProcessesSurviveAKill(t *testing.T) {
	const n = 1000
	dsn, redisAddr, mc := testenv.PostgresSchema(t), testenv.RedisAddr(t), testenv.MinIOServer(t)
	name := fmt.Sprintf("w%d", time.Now().UnixNano())
	bin := buildBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "approvals.ndjson")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, a := range sampledata.Generate(n, sampledata.Options{Seed: 77, Base: registration.Today(time.Now()).AddDays(-300)}) {
		enc.Encode(a)
	}
	os.WriteFile(file, buf.Bytes(), 0o644)

	env := append(os.Environ(),
		"ECERT_DATA_DIR="+dir, "ECERT_DATABASE="+dsn, "ECERT_LOG_LEVEL=warn",
		"ECERT_MINIO_ENDPOINT="+mc.Endpoint, "ECERT_MINIO_ACCESS_KEY="+mc.AccessKey, "ECERT_MINIO_SECRET_KEY="+mc.SecretKey,
		"ECERT_MINIO_BUCKET=ecert-"+name, "ECERT_REDIS_ADDRS="+redisAddr, "ECERT_REDIS_PREFIX="+name+":",
		"ECERT_QUEUE_RECLAIM_AFTER=2s", "ECERT_KEY_PASSPHRASE=", signing.EnvPassphrase+"=")
	run := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		return c
	}
	if out, err := run("issue", "--from", file, "--enqueue").CombinedOutput(); err != nil {
		t.Fatalf("enqueue: %v\n%s", err, out)
	}
	var logs [2]bytes.Buffer
	workers := make([]*exec.Cmd, 2)
	for i := range workers {
		workers[i] = run("worker", "--concurrency", "2")
		workers[i].Stdout, workers[i].Stderr = &logs[i], &logs[i]
		if err := workers[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		for _, w := range workers {
			if w.ProcessState == nil {
				w.Process.Signal(syscall.SIGTERM)
				w.Wait()
			}
		}
	}()
	reg, err := registry.Open(context.Background(), dsn, registry.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	count := func() int {
		c, err := reg.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return c["certificates"]
	}
	waitFor := func(want int, limit time.Duration) {
		deadline := time.Now().Add(limit)
		for count() < want {
			if time.Now().After(deadline) {
				t.Fatalf("%d certificates after %s, want %d\nworker 0:\n%s\nworker 1:\n%s", count(), limit, want, tail(&logs[0]), tail(&logs[1]))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitFor(n/4, 5*time.Minute)
	if err := workers[0].Process.Kill(); err != nil { // SIGKILL: no clean shutdown, jobs in flight are abandoned
		t.Fatal(err)
	}
	workers[0].Wait()
	killedAt := count()
	waitFor(n, 10*time.Minute)
	t.Logf("killed worker 0 at %d certificates; worker 1 finished the rest", killedAt)
	// Let the survivor drain any redelivered duplicates, then stop it cleanly.
	time.Sleep(3 * time.Second)
	workers[1].Process.Signal(syscall.SIGTERM)
	workers[1].Wait()

	if got := count(); got != n {
		t.Fatalf("%d certificates, want exactly %d", got, n)
	}
	var distinct int
	reg.DB().QueryRow("SELECT COUNT(DISTINCT case_id) FROM certificates").Scan(&distinct)
	if distinct != n {
		t.Fatalf("%d distinct cases among %d certificates", distinct, n)
	}
	// Every certificate's files are in MinIO and verify.
	store, err := objectstore.NewMinIO(context.Background(), objectstore.MinIOConfig{Endpoint: mc.Endpoint, AccessKey: mc.AccessKey, SecretKey: mc.SecretKey, Bucket: "ecert-" + name})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signing.OpenDevelopment(context.Background(), filepath.Join(dir, "dev-keys"), nil)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := keys.Root()
	rows, err := reg.DB().Query("SELECT pdf_key, ofd_key FROM certificates")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var pk, ok string
		rows.Scan(&pk, &ok)
		for _, k := range []string{pk, ok} {
			rc, _, err := store.Get(context.Background(), k)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			if rep := verify.File(b, verify.Options{Roots: []*smx509.Certificate{root}}); !rep.OK {
				t.Fatalf("%s does not verify: %+v", k, rep.Checks)
			}
			checked++
		}
	}
	if checked != 2*n {
		t.Fatalf("verified %d files, want %d", checked, 2*n)
	}
}

func tail(b *bytes.Buffer) string {
	s := b.String()
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return strings.TrimSpace(s)
}
