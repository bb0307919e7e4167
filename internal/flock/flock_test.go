package flock_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/flock"
)

// TestLockExcludesOtherProcesses runs critical sections in several child
// processes at once; each appends "begin" and "end" to a shared file while
// holding the lock, so any overlap shows as two begins in a row.
func TestLockExcludesOtherProcesses(t *testing.T) {
	if os.Getenv("FLOCK_CHILD") != "" {
		child(t)
		return
	}
	dir := t.TempDir()
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := exec.Command(os.Args[0], "-test.run=^TestLockExcludesOtherProcesses$")
			c.Env = append(os.Environ(), "FLOCK_CHILD="+dir, "FLOCK_ID="+strconv.Itoa(i))
			if out, err := c.CombinedOutput(); err != nil {
				errs[i] = err
				t.Logf("child %d: %s", i, out)
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "log"))
	lines := strings.Fields(string(b))
	if len(lines) != 2*n*3 {
		t.Fatalf("%d log lines, want %d", len(lines), 2*n*3)
	}
	for i := 0; i < len(lines); i += 2 {
		if lines[i] != "begin" || lines[i+1] != "end" {
			t.Fatalf("critical sections overlapped at line %d: %v", i, lines)
		}
	}
}

func child(t *testing.T) {
	dir := os.Getenv("FLOCK_CHILD")
	for range 3 {
		unlock, err := flock.Lock(filepath.Join(dir, "lock"))
		if err != nil {
			t.Fatal(err)
		}
		appendLine(t, filepath.Join(dir, "log"), "begin")
		time.Sleep(10 * time.Millisecond)
		appendLine(t, filepath.Join(dir, "log"), "end")
		if err := unlock(); err != nil {
			t.Fatal(err)
		}
	}
}

func appendLine(t *testing.T, path, s string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString(s + "\n")
}
