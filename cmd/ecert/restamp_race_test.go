//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/registry"
)

// Twenty `ecert restamp` processes for the same holder, certificate, format
// and purpose, released at the same instant, make exactly one usage copy and
// all print it. On SQLite without Redis and on PostgreSQL without Redis only
// the registry stands between them; with Redis the lock comes first.
func TestRestampProcessesReleasedAtOnceMakeOneCopy(t *testing.T) {
	const procs, rounds = 20, 5
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) []string // extra environment
	}{
		{"sqlite", func(t *testing.T, dir string) []string { return nil }},
		{"postgres", func(t *testing.T, dir string) []string {
			return []string{"ECERT_DATABASE=" + testenv.PostgresSchema(t)}
		}},
		{"postgres+redis", func(t *testing.T, dir string) []string {
			prefix := fmt.Sprintf("rs%d:", time.Now().UnixNano())
			return []string{"ECERT_DATABASE=" + testenv.PostgresSchema(t), "ECERT_REDIS_ADDRS=" + testenv.RedisAddr(t), "ECERT_REDIS_PREFIX=" + prefix}
		}},
	}
	bin := buildBinary(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := append(os.Environ(), "ECERT_DATA_DIR="+dir, "ECERT_LOG_LEVEL=warn", "ECERT_DATABASE=",
				"ECERT_REDIS_ADDRS=", "ECERT_MINIO_ENDPOINT=", "ECERT_KEY_PASSPHRASE=", signing.EnvPassphrase+"=")
			env = append(env, tc.setup(t, dir)...)
			certs := issueForRestamp(t, bin, env, dir, rounds)
			reg := openRegistryOf(t, env, dir)
			split := 0
			for round, c := range certs {
				ids := restampAtOnce(t, bin, env, dir, procs, c)
				var n int
				if err := reg.DB().QueryRow(`SELECT COUNT(*) FROM usage_copies WHERE certificate_no = '` + c.certNo + `'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				distinct := map[string]int{}
				for _, id := range ids {
					distinct[id]++
				}
				if n != 1 || len(distinct) != 1 {
					split++
					t.Errorf("round %d: %d copies recorded for %s, processes printed %v", round, n, c.certNo, distinct)
				}
			}
			t.Logf("%d of %d rounds of %d processes made more than one copy", split, rounds, procs)
		})
	}
}

type heldCert struct{ holder, certNo string }

// issueForRestamp issues n certificates that can be re-stamped today.
func issueForRestamp(t *testing.T, bin string, env []string, dir string, n int) []heldCert {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	as := sampledata.Generate(n, sampledata.Options{Seed: 91, Base: registration.Today(time.Now()).AddDays(-60)})
	for i := range as {
		as[i].BusinessType, as[i].NoticeEnd = registration.Change, registration.Date{}
		enc.Encode(as[i])
	}
	file := filepath.Join(dir, "approvals.ndjson")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "issue", "--from", file)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("issue: %v\n%s", err, out)
	}
	reg := openRegistryOf(t, env, dir)
	var certs []heldCert
	for _, a := range as {
		c, err := reg.CertificateByCase(context.Background(), a.CaseID)
		if err != nil {
			t.Fatalf("case %s: %v", a.CaseID, err)
		}
		certs = append(certs, heldCert{a.Person.IDNumber, c.CertificateNo})
	}
	return certs
}

// openRegistryOf opens the registry the processes of env use.
func openRegistryOf(t *testing.T, env []string, dir string) *registry.Registry {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(dir, "ecert.db")
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "ECERT_DATABASE="); ok && v != "" {
			dsn = v
		}
	}
	reg, err := registry.Open(context.Background(), dsn, registry.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	return reg
}

var copyLine = regexp.MustCompile(`usage copy (C[0-9a-f]+) `)

// restampAtOnce starts procs `ecert restamp` processes for c, waits until
// every one is ready at the start barrier (a file the test holds an
// exclusive flock on), releases them together and returns the copy ids they
// printed.
func restampAtOnce(t *testing.T, bin string, env []string, dir string, procs int, c heldCert) []string {
	t.Helper()
	barrier := filepath.Join(dir, fmt.Sprintf("barrier-%s", c.certNo))
	f, err := os.Create(barrier)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	cmds := make([]*exec.Cmd, procs)
	outs := make([]bytes.Buffer, procs)
	for i := range cmds {
		cmds[i] = exec.Command(bin, "restamp", "--holder", c.holder, "--certificate", c.certNo, "--format", "pdf", "--purpose", "投标")
		cmds[i].Env = append(env, envStartBarrier+"="+barrier)
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for {
		ready, _ := filepath.Glob(barrier + ".*.ready")
		if len(ready) == procs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d processes reached the start barrier", len(ready), procs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the last one get from its ready file to the flock
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, procs)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("process %d: %v\n%s", i, err, outs[i].String())
		}
		m := copyLine.FindStringSubmatch(outs[i].String())
		if m == nil {
			t.Fatalf("process %d printed no copy:\n%s", i, outs[i].String())
		}
		ids[i] = m[1]
	}
	return ids
}
