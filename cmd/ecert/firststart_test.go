package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path"

	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/objectstore"
)

// TestConcurrentFirstStarts starts several `ecert issue` processes at once
// on a fresh data directory, round after round: every process must succeed
// (no half-applied migration), exactly one development CA must exist, and
// every stored file must verify against it.
func TestConcurrentFirstStarts(t *testing.T) {
	const rounds, procs = 5, 4
	bin := buildBinary(t)
	approvals := filepath.Join(t.TempDir(), "approvals.ndjson")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, a := range sampledata.Generate(procs, sampledata.Options{Seed: 13, Base: registration.Today(time.Now()).AddDays(-60)}) {
		enc.Encode(a)
	}
	if err := os.WriteFile(approvals, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for round := range rounds {
		dir := t.TempDir()
		env := append(os.Environ(), "ECERT_DATA_DIR="+dir, "ECERT_DATABASE=", "ECERT_LOG_LEVEL=error",
			signing.EnvPassphrase+"=", signing.EnvPassphraseFile+"=")
		outs := make([][]byte, procs)
		errs := make([]error, procs)
		var wg sync.WaitGroup
		for i := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := exec.Command(bin, "issue", "--from", approvals)
				c.Env = env
				outs[i], errs[i] = c.CombinedOutput()
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, process %d: %v\n%s", round, i, err, outs[i])
			}
		}
		issuers, _ := filepath.Glob(filepath.Join(dir, "dev-keys", "issuers", "*.pem"))
		if len(issuers) != 1 {
			t.Fatalf("round %d: %d development issuer certificates, want 1", round, len(issuers))
		}
		verifyAllStored(t, bin, env, dir, round)
	}
}

// verifyAllStored runs `ecert verify` on every stored certificate file.
func verifyAllStored(t *testing.T, bin string, env []string, dir string, round int) {
	t.Helper()
	ctx := context.Background()
	st, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: filepath.Join(dir, "objects")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, _ := filepath.Glob(filepath.Join(dir, "objects", "certificates", "*", "v*"))
	if len(keys) == 0 {
		t.Fatalf("round %d: no certificate files stored", round)
	}
	for _, k := range keys {
		k, _ = filepath.Rel(filepath.Join(dir, "objects"), k)
		obj := struct{ Key string }{filepath.ToSlash(k)}
		rc, _, err := st.Get(ctx, obj.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), path.Base(obj.Key))
		os.WriteFile(f, b, 0o600)
		c := exec.Command(bin, "verify", "--allow-development", f)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("round %d: %s does not verify against the one development CA: %v\n%s", round, obj.Key, err, out)
		}
	}
}
