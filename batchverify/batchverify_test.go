package batchverify_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/batchverify"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
)

type keys struct {
	auth, report signing.Signer
	roots        []*smx509.Certificate
}

var (
	keysOnce sync.Once
	theKeys  keys
	keysErr  error
)

// testKeys is one key store for the package (making keys is slow).
func testKeys(t testing.TB) keys {
	keysOnce.Do(func() {
		dir, err := os.MkdirTemp("", "batchverify-keys-")
		if err != nil {
			keysErr = err
			return
		}
		st, err := signing.NewStore(dir, []byte("batch verification test"), signing.CAConfig{})
		if err == nil {
			err = st.Init(context.Background())
		}
		if err != nil {
			keysErr = err
			return
		}
		a, err1 := st.Signer()
		r, err2 := st.ReportSigner(context.Background())
		root, err3 := st.Root()
		keysErr = errors.Join(err1, err2, err3)
		theKeys = keys{auth: a, report: r, roots: []*smx509.Certificate{root}}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return theKeys
}

func certificate(t testing.TB, k keys) []byte {
	t.Helper()
	doc, err := pdfsig.Sign(context.Background(), signtest.PDF(t), k.auth, pdfsig.Options{Time: time.Now(), Rect: [4]float64{1, 1, 60, 60},
		Metadata: map[string]string{signing.MetaKind: "original"}})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func report(t testing.TB, k keys, files []batchverify.File) (*batchverify.Batch, []byte) {
	t.Helper()
	b, err := batchverify.Verify(context.Background(), files, batchverify.Options{Verify: verify.Options{Roots: k.roots}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := batchverify.Sign(context.Background(), b, k.report)
	if err != nil {
		t.Fatal(err)
	}
	return b, out
}

func TestSignedReportVerifiesAsAReport(t *testing.T) {
	k := testKeys(t)
	good := certificate(t, k)
	bad := bytes.Clone(good)
	bad[len(bad)/3] ^= 1
	b, rep := report(t, k, []batchverify.File{{Name: "good.pdf", Data: good}, {Name: "bad.pdf", Data: bad}, {Name: "note.txt", Data: []byte("hello")}})
	if b.Valid != 1 || b.Invalid != 2 || b.StatusList != batchverify.StatusNotConsulted {
		t.Fatalf("batch: %+v", b)
	}
	r := verify.File(rep, verify.Options{Roots: k.roots})
	if !r.OK || r.Document != verify.DocumentVerificationReport {
		t.Fatalf("report does not verify as a report: %+v", r)
	}
	if c, ok := r.Check(verify.CheckDocumentKind); !ok || !c.OK {
		t.Fatalf("document-kind: %+v", c)
	}
	if _, ok := r.Check(verify.CheckUsage); ok {
		t.Fatal("a certificate check was applied to a report")
	}
	if r.Metadata[batchverify.MetaReportID] != b.ID || r.Metadata[batchverify.MetaFiles] != "3" {
		t.Fatalf("metadata: %v", r.Metadata)
	}

	// Any single changed byte is caught.
	for _, at := range []int{100, len(rep) / 2, len(rep) - 10} {
		tampered := bytes.Clone(rep)
		tampered[at] ^= 0x20
		if r := verify.File(tampered, verify.Options{Roots: k.roots}); r.OK {
			t.Errorf("a byte changed at %d of %d went unnoticed", at, len(rep))
		}
	}
}

func TestOnlyTheServiceSignsReports(t *testing.T) {
	k := testKeys(t)
	b, _ := report(t, k, []batchverify.File{{Name: "x", Data: []byte("x")}})
	if _, err := batchverify.Sign(context.Background(), b, k.auth); !errors.Is(err, batchverify.ErrAuthoritySigner) {
		t.Fatalf("signed a report with the authority's key: %v", err)
	}
	// A report forged with the authority's key fails document-kind ...
	pdf, err := batchverify.Render(b, batchverify.Signer{})
	if err != nil {
		t.Fatal(err)
	}
	forged, err := pdfsig.Sign(context.Background(), pdf, k.auth, pdfsig.Options{Time: time.Now(), Rect: batchverify.SealRect,
		Metadata: map[string]string{signing.MetaKind: signing.KindVerificationReport}})
	if err != nil {
		t.Fatal(err)
	}
	if r := verify.File(forged, verify.Options{Roots: k.roots}); r.OK {
		t.Fatal("a report signed by the authority verified")
	} else if c, _ := r.Check(verify.CheckDocumentKind); c.OK {
		t.Fatalf("document-kind passed: %+v", c)
	}
	// ... and a certificate signed with the service's key too.
	cert, err := pdfsig.Sign(context.Background(), signtest.PDF(t), k.report, pdfsig.Options{Time: time.Now(), Rect: [4]float64{1, 1, 60, 60},
		Metadata: map[string]string{signing.MetaKind: "original"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := verify.File(cert, verify.Options{Roots: k.roots}); r.OK || r.Document != "" {
		t.Fatalf("a certificate signed by the verification service verified: %+v", r.Checks)
	}
}

// TestLongBatchPaginates renders 120 files with long Chinese names and
// reads the text back with pdftotext: every file is listed, long names end
// in an ellipsis, and every page has its footer.
func TestLongBatchPaginates(t *testing.T) {
	k := testKeys(t)
	b := &batchverify.Batch{ID: "0123456789abcdef", VerifiedAt: time.Now(), StatusList: batchverify.StatusNotConsulted}
	long := strings.Repeat("二级建造师电子注册证书（建筑工程）", 12) + ".pdf"
	for i := range 120 {
		b.Add(fmt.Sprintf("%03d-%s", i, long), []byte{byte(i)}, nil)
	}
	rep, err := batchverify.Sign(context.Background(), b, k.report)
	if err != nil {
		t.Fatal(err)
	}
	if r := verify.File(rep, verify.Options{Roots: k.roots}); !r.OK {
		t.Fatalf("long report: %+v", r.Checks)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "r.pdf")
	os.WriteFile(f, rep, 0o644)
	out, err := exec.Command(testenv.Tool(t, "pdftotext"), "-layout", f, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	text := string(out)
	pages := strings.Count(text, "\f")
	if pages < 5 || !strings.Contains(text, fmt.Sprintf("第 %d / %d 页", pages, pages)) {
		t.Fatalf("%d pages; footer missing", pages)
	}
	for _, want := range []string{"000-二级建造师", "119-二级建造师", "…", "无法读取 unreadable"} {
		if !strings.Contains(text, want) {
			t.Errorf("report text lacks %q", want)
		}
	}
}

func zipOf(t testing.TB, files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	zw.Close()
	return buf.Bytes()
}

func TestReadZipLimits(t *testing.T) {
	lim := batchverify.Limits{MaxFiles: 3, MaxFileBytes: 1000, MaxTotalBytes: 2500, MaxZipEntries: 5}
	many := map[string][]byte{}
	for i := range 6 {
		many[fmt.Sprintf("f%d.pdf", i)] = []byte("x")
	}
	four := map[string][]byte{"a": {1}, "b": {2}, "c": {3}, "d": {4}}
	tests := []struct {
		name string
		data []byte
		code string
		n    int
	}{
		{"two files and a directory", zipOf(t, map[string][]byte{"a.pdf": []byte("aa"), "dir/": nil, "dir/证书.ofd": []byte("bb")}), "", 2},
		{"not a zip", []byte("PK\x03\x04 this is no archive"), batchverify.CodeNotZip, 0},
		{"too many entries", zipOf(t, many), batchverify.CodeTooManyFiles, 0},
		{"too many files", zipOf(t, four), batchverify.CodeTooManyFiles, 0},
		{"zip bomb", zipOf(t, map[string][]byte{"bomb.pdf": make([]byte, 10<<20)}), batchverify.CodeFileTooLarge, 0},
		{"too large together", zipOf(t, map[string][]byte{"a": make([]byte, 900), "b": make([]byte, 900), "c": make([]byte, 900)}), batchverify.CodeTooLarge, 0},
		{"empty", zipOf(t, map[string][]byte{"dir/": nil}), batchverify.CodeEmpty, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := batchverify.NewCounter(lim)
			err := c.ReadZip(tc.data)
			var files []batchverify.File
			if err == nil {
				files, err = c.Files()
			}
			var be *batchverify.Error
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code == "" && len(files) != tc.n:
				t.Fatalf("%d files, want %d", len(files), tc.n)
			case tc.code != "" && (!errors.As(err, &be) || be.Code != tc.code):
				t.Fatalf("err = %v, want code %s", err, tc.code)
			}
		})
	}
}

// TestZipBombLiesAboutItsSize: an entry whose header claims a few bytes but
// inflates to megabytes is stopped at the limit.
func TestZipBombLiesAboutItsSize(t *testing.T) {
	data := zipOf(t, map[string][]byte{"bomb.pdf": make([]byte, 4<<20)})
	// Rewrite the declared uncompressed size (central directory and local
	// header) to 10 bytes.
	data = lieAboutSize(t, data, 10)
	c := batchverify.NewCounter(batchverify.Limits{MaxFileBytes: 1 << 20})
	err := c.ReadZip(data)
	var be *batchverify.Error
	if !errors.As(err, &be) {
		t.Fatalf("a lying zip bomb was read: %v", err)
	}
}

func lieAboutSize(t testing.TB, data []byte, size uint32) []byte {
	out := bytes.Clone(data)
	put := func(at int) {
		out[at], out[at+1], out[at+2], out[at+3] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
	}
	for i := 0; i+4 <= len(out); i++ {
		switch string(out[i : i+4]) {
		case "PK\x03\x04":
			put(i + 22)
		case "PK\x01\x02":
			put(i + 24)
		}
	}
	return out
}

func TestOFDIsNotABatch(t *testing.T) {
	if batchverify.IsZip(signtest.OFD(t)) {
		t.Fatal("an OFD package was taken for a batch")
	}
	if !batchverify.IsZip(zipOf(t, map[string][]byte{"a.pdf": {1}})) {
		t.Fatal("a zip of files was not taken for a batch")
	}
}

func FuzzReadZip(f *testing.F) {
	f.Add(zipOf(f, map[string][]byte{"a.pdf": []byte("%PDF-1.7"), "b/c.ofd": []byte("PK")}))
	f.Add(lieAboutSize(f, zipOf(f, map[string][]byte{"bomb": make([]byte, 1<<16)}), 3))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := batchverify.Limits{MaxFiles: 8, MaxFileBytes: 1 << 16, MaxTotalBytes: 1 << 17, MaxZipEntries: 16}
		c := batchverify.NewCounter(lim)
		if err := c.ReadZip(data); err != nil {
			var be *batchverify.Error
			if !errors.As(err, &be) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		files, _ := c.Files()
		total := 0
		for _, f := range files {
			total += len(f.Data)
			if len(f.Data) > 1<<16 || len(f.Name) > batchverify.DefaultMaxNameLen+3 {
				t.Fatalf("limit broken: %d bytes, name %d", len(f.Data), len(f.Name))
			}
		}
		if len(files) > 8 || total > 1<<17 {
			t.Fatalf("limits broken: %d files, %d bytes", len(files), total)
		}
	})
}

func BenchmarkReport100Files(b *testing.B) {
	k := testKeys(b)
	batch := &batchverify.Batch{ID: "0123456789abcdef", VerifiedAt: time.Now(), StatusList: batchverify.StatusNotConsulted}
	cert := certificate(b, k)
	r := verify.File(cert, verify.Options{Roots: k.roots})
	for i := range 100 {
		batch.Add(fmt.Sprintf("证书-%03d.pdf", i), cert, r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := batchverify.Sign(context.Background(), batch, k.report); err != nil {
			b.Fatal(err)
		}
	}
}
