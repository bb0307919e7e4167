package batchverify_test

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/signing/verify"
)

var samplePDF = flag.String("sample", "", "write a signed sample report (3 files, one tampered) to this path")

// TestSample writes the report behind docs/img/verification-report.png
// when -sample is given.
func TestSample(t *testing.T) {
	if *samplePDF == "" {
		t.Skip("no -sample path")
	}
	k := testKeys(t)
	good := certificate(t, k)
	bad := bytes.Clone(good)
	bad[len(bad)/3] ^= 1
	files := []batchverify.File{
		{Name: "张三-二级建造师电子注册证书-辽建安2025012345.pdf", Data: good},
		{Name: "李四-二级建造师电子注册证书（建筑工程、市政公用工程、机电工程）使用副本-投标文件附件-2026年12月.pdf", Data: bad},
		{Name: "scan-of-certificate.jpg", Data: []byte("\xff\xd8\xff\xe0")},
	}
	b, rep := report(t, k, files)
	_ = b
	if r := verify.File(rep, verify.Options{Roots: k.roots}); !r.OK {
		t.Fatalf("%+v", r.Checks)
	}
	if err := os.WriteFile(*samplePDF, rep, 0o644); err != nil {
		t.Fatal(err)
	}
}
