package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
)

// TestRenderUsesGlobalVerifyBaseURL renders a record without verify_url and
// no --verify-base-url: the global flag's default must supply the QR URL.
func TestRenderUsesGlobalVerifyBaseURL(t *testing.T) {
	data, err := os.ReadFile("../../certgen/testdata/zhang.json")
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	licence := rec["licence_id"].(string)
	delete(rec, "verify_url")
	dir := t.TempDir()
	in := filepath.Join(dir, "rec.json")
	data, _ = json.Marshal(rec)
	if err := os.WriteFile(in, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"default", nil, "https://ecert.example.gov.cn/verify/" + licence},
		{"flag", []string{"--verify-base-url", "https://v.example.cn/check/"}, "https://v.example.cn/check/" + licence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, tc.name+".pdf")
			f := rootCmd.PersistentFlags().Lookup("verify-base-url")
			t.Cleanup(func() { f.Value.Set(f.DefValue); f.Changed = false })
			args := append([]string{"render", "--format", "pdf", "--record", in, "--out", out}, tc.args...)
			if msg, err := runCLI(t, args...); err != nil {
				t.Fatalf("render: %v\n%s", err, msg)
			}
			text, err := exec.Command(testenv.Tool(t, "pdftotext"), out, "-").Output()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(strings.Fields(string(text)), ""), tc.want) {
				t.Errorf("PDF text lacks %s:\n%s", tc.want, text)
			}
		})
	}
}
