package ofd

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"io"
	"strings"
	"testing"
	"time"
)

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", -0.0004: "0", 1: "1", 1.5: "1.5", 12.3456: "12.346", -0.25: "-0.25",
		210.0001: "210", 0.1 + 0.2: "0.3", -3.0005: "-3.001", 1e20: "100000000000000000000",
	} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestDeltas(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want string
	}{
		{[]float64{4.2}, "4.2"},
		{[]float64{4.2, 4.2}, "4.2 4.2"},
		{[]float64{4.2, 4.2, 4.2, 2.1}, "g 3 4.2 2.1"},
		{[]float64{1, 2.0001, 2, 2, 3}, "1 g 3 2 3"},
	} {
		if got := string(appendDeltas(nil, tc.in)); got != tc.want {
			t.Errorf("deltas %v = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func testDoc() *Document {
	font := bytes.Repeat([]byte("glyph data "), 200)
	var def bytes.Buffer
	fw, _ := flate.NewWriter(&def, flate.BestSpeed)
	fw.Write(font)
	fw.Close()
	return &Document{
		DocID: "0123456789abcdef0123456789abcdef", Title: "证书 <&>", Author: "机关",
		CreationDate: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), Width: 297, Height: 210,
		Fonts:  []Font{{Name: "A", Data: font, Deflated: def.Bytes()}, {Name: "B", Data: []byte("plain font")}},
		Images: []Image{{Format: "PNG", Data: []byte("\x89PNG fake")}},
		Objects: []any{
			Box{Boundary: Rect{1, 2, 3, 4}, Stroke: &RGB{1, 2, 3}, LineWidth: 0.5},
			Text{Font: 0, Size: 4, X: 10, Y: 20, DeltaX: []float64{4, 4}, Text: "a&<", Fill: RGB{9, 9, 9}},
			Text{Font: 1, Size: 4, X: 10, Y: 20, DeltaX: nil, Text: "字", Angle: 30},
			Picture{Image: 0, Boundary: Rect{5, 5, 10, 10}},
		},
	}
}

// The zip reads back with archive/zip (which checks every CRC-32), with
// each file's bytes, including the entry that was compressed beforehand,
// and with the same modification time on every entry.
func TestWriteToReadsBack(t *testing.T) {
	d := testDoc()
	p, err := Build(d)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(p.Files()) {
		t.Fatalf("%d zip entries, package has %d files", len(zr.File), len(p.Files()))
	}
	for _, zf := range zr.File {
		want, _ := p.File(zf.Name)
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc)
		if err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: bytes differ", zf.Name)
		}
		if !zf.Modified.Equal(d.CreationDate) {
			t.Errorf("%s: modified %v, want %v", zf.Name, zf.Modified, d.CreationDate)
		}
		if strings.HasSuffix(zf.Name, ".png") != (zf.Method == zip.Store) {
			t.Errorf("%s: method %d", zf.Name, zf.Method)
		}
	}
	page, _ := p.File("Doc_0/Pages/Page_0/Content.xml")
	for _, want := range []string{`>a&amp;&lt;</ofd:TextCode>`, `DeltaX="4 4"`, ` CTM="0.866025 -0.5 0.5 0.866025 `, `<ofd:StrokeColor Value="1 2 3"/>`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("Content.xml lacks %s:\n%s", want, page)
		}
	}
}

// Replacing a file drops its compressed copy, so the zip holds the new bytes.
func TestReplaceDropsCompressedCopy(t *testing.T) {
	p, err := Build(testDoc())
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for _, f := range p.Files() {
		if strings.HasSuffix(f.Name, ".ttf") {
			name = f.Name
			break
		}
	}
	if err := p.Replace(name, []byte("new font")); err != nil {
		t.Fatal(err)
	}
	b, err := p.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	for _, zf := range zr.File {
		if zf.Name == name {
			rc, _ := zf.Open()
			got, err := io.ReadAll(rc)
			if err != nil || string(got) != "new font" {
				t.Fatalf("%s after Replace: %q, %v", name, got, err)
			}
			return
		}
	}
	t.Fatalf("%s missing", name)
}

func TestBuildRefusesBadDocuments(t *testing.T) {
	for name, mod := range map[string]func(*Document){
		"page size":   func(d *Document) { d.Width = 0 },
		"font index":  func(d *Document) { d.Objects = []any{Text{Font: 5, Text: "a"}} },
		"deltas":      func(d *Document) { d.Objects = []any{Text{Font: 0, Text: "ab", DeltaX: nil}} },
		"image index": func(d *Document) { d.Objects = []any{Picture{Image: 3}} },
		"format":      func(d *Document) { d.Images[0].Format = "JPEG" },
		"object type": func(d *Document) { d.Objects = []any{42} },
	} {
		d := testDoc()
		mod(d)
		if _, err := Build(d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	p, _ := Build(testDoc())
	for _, bad := range []string{"", "/abs", "a/../b", `a\b`, "名字", "OFD.xml"} {
		if err := p.Add(bad, nil); err == nil {
			t.Errorf("Add(%q) accepted", bad)
		}
	}
}
