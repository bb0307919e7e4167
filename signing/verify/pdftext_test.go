package verify

import (
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
)

// renderedCopy renders a usage copy whose purpose has a character beyond
// the BMP (a surrogate pair in the ToUnicode CMap) and signs it.
func renderedCopy(t testing.TB) []byte {
	t.Helper()
	rnd, c := copyCertificate(t)
	doc, err := rnd.PDF(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	ca := signtest.NewCA(t, time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	out, err := pdfsig.Sign(context.Background(), doc, ca.Signer, pdfsig.Options{Time: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), Rect: [4]float64{1, 1, 50, 50}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyCertificate(t testing.TB) (*certgen.Renderer, *certgen.Certificate) {
	t.Helper()
	rnd, err := certgen.NewDefault(certgen.Options{VerifyBaseURL: "https://ecert.example.gov.cn/v"})
	if err != nil {
		t.Fatal(err)
	}
	c := &certgen.Certificate{
		HolderName: "王䶮喆", Gender: "女", BirthDate: registration.MustDate("1990-02-28"),
		IDNumber: "110105199002280047", RegistrationNo: "辽2212025000124",
		Employer: "沈阳喆堃建设工程有限公司", EmployerCreditCode: "91210100MA0ABCDE1X",
		Specialties: []certgen.Specialty{{Name: "公路工程", ValidUntil: registration.MustDate("2027-06-30")}},
		Authority:   "辽宁省住房和城乡建设厅", IssueDate: registration.MustDate("2025-07-01"),
		LicenceID: "1.2.156.3005.2.11100000000013338W001.11210000MB0123456K.2025000124.002.K",
		Copy: &certgen.UsageCopy{Serial: "JZ-2026-000042", ValidFrom: registration.MustDate("2026-03-04"),
			ValidUntil: registration.MustDate("2026-08-30"), Purpose: "投标𠮷"},
	}
	return rnd, c
}

func sortedRunes(s string) []rune {
	var out []rune
	for _, r := range s {
		if !unicode.IsSpace(r) {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out
}

// TestPDFTextMatchesPdftotext: our extraction of a rendered, signed copy
// yields the same characters as poppler's pdftotext, and the annotation
// line as one run.
func TestPDFTextMatchesPdftotext(t *testing.T) {
	doc := renderedCopy(t)
	text, problems, err := pdfPageText(doc)
	if err != nil || len(problems) > 0 {
		t.Fatalf("extract: %v %v", err, problems)
	}
	fn := filepath.Join(t.TempDir(), "copy.pdf")
	if err := os.WriteFile(fn, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command(testenv.Tool(t, "pdftotext"), fn, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	if !strings.Contains(string(want), "使用有效期：2026年03月04日至2026年08月30日") {
		t.Fatalf("pdftotext does not see the annotation:\n%s", want)
	}
	for _, line := range []string{"使用有效期：2026年03月04日至2026年08月30日", "加注件编号：JZ-2026-000042", "用途：投标𠮷", "辽宁省住房和城乡建设厅"} {
		if !strings.Contains(text, line) {
			t.Errorf("extracted text lacks %q:\n%s", line, text)
		}
	}
	if got, exp := sortedRunes(text), sortedRunes(string(want)); !slices.Equal(got, exp) {
		t.Errorf("characters differ from pdftotext:\nours:      %s\npdftotext: %s", string(got), string(exp))
	}
	if p := printedUsage(text); len(p) != 1 || p[0] != [2]string{"2026-03-04", "2026-08-30"} {
		t.Errorf("printed usage %v", p)
	}
}

func TestParseCMap(t *testing.T) {
	cm, err := parseCMap([]byte(`/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
3 beginbfchar
<0003> <0020>
<0010> <4F7F>
<0011> <D842DFB7>
endbfchar
3 beginbfrange
<0020> <0029> <0030>
<0040> <0042> [<6709> <6548> <D842DFB7>]
<00FE> <0101> <00FE>
endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end`))
	if err != nil {
		t.Fatal(err)
	}
	f := &pdfFont{composite: true, cmap: cm}
	var out textBuf
	out.show(f, "\x00\x10\x00\x11\x00\x03\x00\x20\x00\x29\x00\x40\x00\x41\x00\x42\x00\x43\x01\x00\x00\x07")
	if got, want := out.String(), "使𠮷 09有效𠮷\uFFFDĀ\uFFFD"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestParseCMapLongBlocks: one block may hold more entries than the
// operand limit (gopdf writes every glyph in one block); the entry limit holds.
func TestParseCMapLongBlocks(t *testing.T) {
	block := func(n int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "<%04X> <%04X>\n", i, 0x4E00+i)
		}
		return b.String() + "endbfchar"
	}
	cm, err := parseCMap([]byte(block(3 * maxCMapOperands)))
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := cm.lookup(2, 3*maxCMapOperands-1); !ok || s != string(rune(0x4E00+3*maxCMapOperands-1)) {
		t.Fatalf("last entry %q %v", s, ok)
	}
	if _, err := parseCMap([]byte(block(maxCMapEntries) + "\n1 beginbfchar <FFFF> <0041> endbfchar")); err == nil || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("entry limit: %v", err)
	}
	if _, err := parseCMap([]byte(strings.Repeat("<00> ", maxCMapOperands+1))); err == nil {
		t.Fatal("operand flood accepted")
	}
}

func TestShowTextOperators(t *testing.T) {
	fonts := map[string]*pdfFont{"F1": {}} // a simple font without ToUnicode: Latin-1
	var out textBuf
	err := showText([]byte(`BT /F1 12 Tf (Hello\040W\157rld\)) Tj [(A) -250 (B)] TJ
(line) ' 1 2 (q\
uote) " ET
BI /W 2 /H 2 /BPC 8 /CS /G ID `+"\x00Tj EI\xff"+` EI
q BT /F1 1 Tf <4142> Tj ET Q % (comment) Tj
/Span << /ActualText (x) >> BDC (C) Tj EMC`), func(n string) *pdfFont { return fonts[n] }, &out)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "Hello World)ABlinequoteABC"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// pdfWith builds a classic-xref PDF whose page shows content with a font
// that has the given ToUnicode CMap; the content stream is deflated.
func pdfWith(content, cmap string) []byte { return pdfWithDeflated(deflate(content), cmap) }

func deflate(s string) string {
	var zc bytes.Buffer
	zw := zlib.NewWriter(&zc)
	zw.Write([]byte(s))
	zw.Close()
	return zc.String()
}

func pdfWithDeflated(zc, cmap string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 /Resources << /Font << /F1 4 0 R >> >> >>",
		"<< /Type /Page /Parent 2 0 R /Contents [5 0 R] >>",
		"<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 6 0 R >>",
		fmt.Sprintf("<< /Filter [/FlateDecode] /Length 7 0 R >>\nstream\n%s\nendstream", zc),
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(cmap), cmap),
		fmt.Sprint(len(zc)),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := []int{}
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

const testCMap = "begincmap 1 begincodespacerange <0000> <FFFF> endcodespacerange\n" +
	"2 beginbfrange <0001> <0005> <4F7F> <0010> <0019> <0030> endbfrange endcmap"

func TestPDFPageTextInheritedResourcesAndPrev(t *testing.T) {
	doc := pdfWith("BT /F1 9 Tf <00010002> Tj [<0010> 3 <0019>] TJ ET", testCMap)
	text, problems, err := pdfPageText(doc)
	if err != nil || len(problems) > 0 || text != "使侀09" {
		t.Fatalf("text %q, problems %v, err %v", text, problems, err)
	}
	// An incremental update replacing the page's content: the newest wins.
	upd := "8 0 obj\n<< /Length 24 >>\nstream\nBT /F1 9 Tf <0003> Tj ET\nendstream\nendobj\n"
	off := len(doc)
	prev := bytes.LastIndex(doc, []byte("startxref\n")) + len("startxref\n")
	var px int
	fmt.Sscan(string(doc[prev:]), &px)
	page := off + len(upd)
	upd += "3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 8 0 R >>\nendobj\n"
	x := off + len(upd)
	upd += fmt.Sprintf("xref\n3 1\n%010d 00000 n \n8 1\n%010d 00000 n \ntrailer\n<< /Size 9 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", page, off, px, x)
	text, problems, err = pdfPageText(append(bytes.Clone(doc), upd...))
	if err != nil || len(problems) > 0 || text != "\u4F81" {
		t.Fatalf("updated: text %q, problems %v, err %v", text, problems, err)
	}
}

func TestPDFPageTextRefusals(t *testing.T) {
	bomb := deflate(strings.Repeat(" ", maxDecodedStream+10))
	cases := map[string]struct {
		doc     []byte
		problem string
	}{
		"no xref":       {[]byte("%PDF-1.7\n1 0 obj << >> endobj\nstartxref\n9\n%%EOF"), "xref"},
		"xref loop":     {[]byte("%PDF-1.7\nxref\n0 1\n0000000000 65535 f \ntrailer << /Prev 9 /Root 1 0 R >>\nstartxref\n9\n%%EOF"), "loop"},
		"deep nesting":  {pdfWith("BT /F1 9 Tf "+strings.Repeat("[", 100)+"(x) TJ ET", testCMap), "nesting"},
		"operand flood": {pdfWith(strings.Repeat("1 ", 1000)+"Tj", testCMap), "operands"},
		"inflate bomb":  {pdfWithDeflated(bomb, testCMap), "limit"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, problems, err := pdfPageText(tc.doc)
			all := strings.Join(problems, "; ")
			if err != nil {
				all += "; " + err.Error()
			}
			if !strings.Contains(all, tc.problem) {
				t.Fatalf("problems %q, want %q", all, tc.problem)
			}
		})
	}
}

// FuzzExtractText feeds hostile content streams and ToUnicode CMaps to the
// text extraction: it must neither panic nor exceed its limits.
func FuzzExtractText(f *testing.F) {
	f.Add([]byte("BT /F1 9 Tf <00010002> Tj [<0010> 3 <0019>] TJ ET"), []byte(testCMap))
	f.Add([]byte("BT /F1 1 Tf (a\\(b\\)) ' 1 2 (c) \" BI /W 1 ID \x00 EI <<>> BDC ET"), []byte("1 begincodespacerange <00> <FF> endcodespacerange 1 beginbfchar <61> <D842DFB7> endbfchar"))
	f.Add([]byte("[[[[(x)]]]] TJ <0> Tj"), []byte("1 beginbfrange <0000> <FFFF> [<0041> <0042>] <00> <0001> <FFFF> endbfrange"))
	f.Add([]byte("/F1 Tf <FFFFFFFF> Tj"), []byte("2 begincodespacerange <00> <7F> <8000> <FFFF> endcodespacerange 1 beginbfrange <8000> <80FF> <DBFF> endbfrange"))
	f.Fuzz(func(t *testing.T, content, cmapData []byte) {
		cm, err := parseCMap(cmapData)
		font := &pdfFont{composite: true, cmap: cm}
		if err != nil {
			font.cmap = nil
		}
		var out textBuf
		_ = showText(content, func(string) *pdfFont { return font }, &out)
		if out.Len() > maxTextBytes {
			t.Fatalf("%d bytes of text, limit %d", out.Len(), maxTextBytes)
		}
		if cm != nil && (len(cm.single) > maxCMapEntries || len(cm.ranges) > maxCMapRanges || len(cm.spaces) > maxCMapSpaces) {
			t.Fatalf("CMap over its limits: %d entries, %d ranges, %d spaces", len(cm.single), len(cm.ranges), len(cm.spaces))
		}
	})
}

// FuzzPDFPageText feeds hostile PDF files to the object reader, page tree
// walk and stream decoding.
func FuzzPDFPageText(f *testing.F) {
	f.Add(pdfWith("BT /F1 9 Tf <00010002> Tj ET", testCMap))
	f.Add(pdfWith("BT /F1 9 Tf [<0010> 3 <0019>] TJ ET", "garbage ["))
	f.Add([]byte("%PDF-1.7\nxref\n0 1\n0000000000 65535 f \ntrailer << /Prev 9 /Root 1 0 R >>\nstartxref\n9\n%%EOF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		text, _, _ := pdfPageText(data)
		if len(text) > maxTextBytes {
			t.Fatalf("%d bytes of text", len(text))
		}
	})
}

// BenchmarkPageText measures the text extraction the printed-usage-validity
// check adds to verifying a rendered usage copy.
func BenchmarkPageText(b *testing.B) {
	doc := renderedCopy(b)
	b.Run("pdf", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			text, _, err := pdfPageText(doc)
			if err != nil || len(printedUsage(text)) != 1 {
				b.Fatal(err)
			}
		}
	})
	rnd, c := copyCertificate(b)
	ofd, err := rnd.OFD(context.Background(), c)
	if err != nil {
		b.Fatal(err)
	}
	pkg, err := ofdsig.ReadPackage(ofd, ofdsig.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	var d ofdsig.DocumentXML
	if err := ofdsig.ParseXML(pkg.Files["Doc_0/Document.xml"], &d); err != nil {
		b.Fatal(err)
	}
	b.Run("ofd", func(b *testing.B) {
		for b.Loop() {
			text, problems, err := ofdPageText(pkg, "Doc_0/Document.xml", &d)
			if err != nil || len(problems) > 0 || len(printedUsage(text)) != 1 {
				b.Fatal(err, problems)
			}
		}
	})
}
