package ofdsig_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ecert/ecert/signing/ofdsig"
)

func zipOf(t *testing.T, files map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for n, c := range files {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(c)
	}
	zw.Close()
	return b.Bytes()
}

func TestReadPackageLimits(t *testing.T) {
	bomb := zipOf(t, map[string][]byte{"OFD.xml": bytes.Repeat([]byte{0}, 8<<20)})
	if len(bomb) > 64<<10 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	if _, err := ofdsig.ReadPackage(bomb, ofdsig.Limits{}); !errors.Is(err, ofdsig.ErrLimit) {
		t.Fatalf("zip bomb: %v", err)
	}
	many := map[string][]byte{}
	for i := 0; i < 1001; i++ {
		many[fmt.Sprintf("f%d", i)] = nil
	}
	if _, err := ofdsig.ReadPackage(zipOf(t, many), ofdsig.Limits{}); !errors.Is(err, ofdsig.ErrLimit) {
		t.Fatalf("too many entries: %v", err)
	}
	small := ofdsig.DefaultLimits
	small.MaxTotalSize = 1000
	if _, err := ofdsig.ReadPackage(zipOf(t, map[string][]byte{"a": make([]byte, 600), "b": make([]byte, 600)}), small); !errors.Is(err, ofdsig.ErrLimit) {
		t.Fatalf("total size: %v", err)
	}
	for _, name := range []string{"../evil", "/abs", `a\b`, "a/../../b"} {
		if _, err := ofdsig.ReadPackage(zipOf(t, map[string][]byte{name: []byte("x")}), ofdsig.Limits{}); err == nil {
			t.Errorf("unsafe name %q accepted", name)
		}
	}
	if _, err := ofdsig.ReadPackage([]byte("PK\x03\x04 not a zip"), ofdsig.Limits{}); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParseXMLRefusesDTDAndDepth(t *testing.T) {
	var v ofdsig.OFDRoot
	dtd := `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><OFD>&b;</OFD>`
	if err := ofdsig.ParseXML([]byte(dtd), &v); err == nil {
		t.Error("DTD accepted")
	}
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	if err := ofdsig.ParseXML([]byte(deep), &v); err == nil {
		t.Error("deep nesting accepted")
	}
}
