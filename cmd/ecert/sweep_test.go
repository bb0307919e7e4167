package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// TestSweepAfterKills kills `ecert issue` with SIGKILL in the middle of a
// batch (three to twelve times), then runs `ecert sweep --grace 0`: every stale
// temporary file and every file no row refers to must go, every file a
// row refers to must stay and read back, and a re-run completes the batch.
func TestSweepAfterKills(t *testing.T) {
	const n = 600
	bin := buildBinary(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "approvals.ndjson")
	var buf bytes.Buffer
	for _, a := range sampledata.Generate(n, sampledata.Options{Seed: 88, Base: registration.Today(time.Now()).AddDays(-60)}) {
		json.NewEncoder(&buf).Encode(a)
	}
	os.WriteFile(file, buf.Bytes(), 0o600)
	env := append(os.Environ(), "ECERT_DATA_DIR="+dir, "ECERT_DATABASE=", "ECERT_LOG_LEVEL=error",
		signing.EnvPassphrase+"=", signing.EnvPassphraseFile+"=")
	run := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		return c
	}
	// A kill leaves unreferenced files only when it lands between a
	// certificate's files and its row; three kills nearly always do, a few
	// more make sure (the test must prove something, see below).
	for i := range 12 {
		c := run("issue", "--from", file)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		waitForObjects(t, dir, 40*(i+1), 10*(i+1))
		c.Process.Kill()
		c.Wait()
		if i < 2 {
			continue
		}
		dry, err := run("sweep", "--grace", "0", "--dry-run").CombinedOutput()
		if err != nil {
			t.Fatalf("sweep --dry-run: %v\n%s", err, dry)
		}
		if !strings.Contains(string(dry), " 0 unreferenced") {
			t.Logf("%d kills", i+1)
			break
		}
	}
	out, err := run("sweep", "--grace", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("sweep: %v\n%s", err, out)
	}
	t.Logf("sweep: %s", out)
	if strings.Contains(string(out), " 0 unreferenced") {
		t.Fatalf("twelve kills left nothing to sweep, so the test proved nothing: %s", out)
	}
	checkStoreMatchesRegistry(t, dir)
	if out, err := run("issue", "--from", file).CombinedOutput(); err != nil {
		t.Fatalf("re-run: %v\n%s", err, out)
	}
	checkStoreMatchesRegistry(t, dir)
}

// waitForObjects waits until at least files files are stored and rows
// certificates recorded, so that a kill leaves both referenced and
// unreferenced files behind.
func waitForObjects(t *testing.T, dir string, files, rows int) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		stored, _ := filepath.Glob(filepath.Join(dir, "objects", "certificates", "*", "v*"))
		if len(stored) >= files && recorded(dir) >= rows {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("fewer than %d files stored or %d certificates recorded after 2 minutes", files, rows)
}

// recorded counts the certificates in the data directory's registry (0
// while it cannot be read yet).
func recorded(dir string) int {
	reg, err := registry.Open(context.Background(), filepath.Join(dir, "ecert.db"), registry.Options{SkipMigrate: true})
	if err != nil {
		return 0
	}
	defer reg.Close()
	c, err := reg.Counts(context.Background())
	if err != nil {
		return 0
	}
	return c["certificates"]
}

// checkStoreMatchesRegistry: no temporary files, every stored file is
// referenced by a row, and every referenced file reads back whole.
func checkStoreMatchesRegistry(t *testing.T, dir string) {
	t.Helper()
	ctx := context.Background()
	reg, err := registry.Open(ctx, filepath.Join(dir, "ecert.db"), registry.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	keys, err := reg.ObjectKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "objects")
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", rel)
		} else if _, ok := keys[filepath.ToSlash(rel)]; !ok {
			t.Errorf("file no row refers to: %s", rel)
		}
		return nil
	})
	store, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for k := range keys {
		rc, _, err := store.Get(ctx, k)
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			t.Errorf("referenced file %s does not read back: %v", k, err)
		}
	}
}
