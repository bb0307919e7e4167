package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateWasm = flag.Bool("update-wasm", false, "record the committed ecert.wasm.gz as fresh (scripts/build-wasm.sh runs it after a rebuild)")

// wasmSum is where the inputs of the committed artifact are recorded.
const wasmSum = "../cmd/ecert-wasm/artifact.sum"

// TestWasmArtifactFresh fails when api/web/ecert.wasm.gz was not rebuilt
// after a change to the Go sources that go into it (every non-standard
// package `go list -deps` names for js/wasm, by content), or when the
// artifact or wasm_exec.js differ from what was recorded. The Go version
// is not compared: another patch release builds different bytes from the
// same sources, but the same verifier. It does not rebuild (that takes
// over a minute): run `make wasm`.
func TestWasmArtifactFresh(t *testing.T) {
	got := wasmRecord(t)
	if *updateWasm {
		if err := os.WriteFile(wasmSum, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(wasmSum)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("api/web/ecert.wasm.gz is stale: run `make wasm` and commit it with %s\nrecorded:\n%s\nnow:\n%s", filepath.Base(wasmSum), want, got)
	}
}

// wasmRecord is the text of artifact.sum as the tree is now.
func wasmRecord(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{.ImportPath}}|{{.Dir}}|{{join .GoFiles ","}},{{join .EmbedFiles ","}}{{end}}`, "./cmd/ecert-wasm")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "CGO_ENABLED=0", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		parts := strings.SplitN(l, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list line %q", l)
		}
		fmt.Fprintf(h, "package %s\n", parts[0])
		for _, f := range strings.Split(parts[2], ",") {
			if f == "" {
				continue
			}
			b, err := os.ReadFile(filepath.Join(parts[1], f))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%s %x\n", f, sha256.Sum256(b))
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "sources %s (%d packages)\n", hex.EncodeToString(h.Sum(nil)), len(lines))
	for _, f := range []string{"web/ecert.wasm.gz", "web/wasm_exec.js"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %x\n", filepath.Base(f), sha256.Sum256(data))
	}
	return b.String()
}
