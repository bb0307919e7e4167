package pdfobj

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseObjects(t *testing.T) {
	src := []byte(`<< /Type /Sig /A#20B 1 /Ref 12 0 R /Arr [1 -2.5 (x) <41 42 4> true null /N] /S (a\(b\)\n\101\
c) /Dup 1 /Dup 2 >>`)
	o, err := ParseAt(src, 0)
	if err != nil {
		t.Fatal(err)
	}
	if o.Kind != Dict || o.Start != 0 || o.End != len(src) {
		t.Fatalf("dict kind %d span [%d,%d), want [0,%d)", o.Kind, o.Start, o.End, len(src))
	}
	if v := o.Val("Type"); v.Kind != Name || v.S != "Sig" {
		t.Errorf("/Type = %+v", v)
	}
	if v, ok := o.Get("A B"); !ok || v.Num != 1 {
		t.Errorf("#20 in a key not decoded: %v %v", o.Entries, ok)
	}
	ref := o.Val("Ref")
	if ref.Kind != Ref || ref.RefNum() != [2]int{12, 0} || string(src[ref.Start:ref.End]) != "12 0 R" {
		t.Errorf("/Ref = %+v", ref)
	}
	arr := o.Val("Arr")
	if arr.Kind != Array || len(arr.Items) != 7 {
		t.Fatalf("/Arr = %+v", arr)
	}
	if n, ok := arr.Items[0].Int(); !ok || n != 1 {
		t.Errorf("Int of 1 = %d %v", n, ok)
	}
	if _, ok := arr.Items[1].Int(); ok || arr.Items[1].Num != -2.5 {
		t.Errorf("-2.5 parsed as %+v", arr.Items[1])
	}
	if arr.Items[3].S != "AB@" || string(src[arr.Items[3].Start:arr.Items[3].End]) != "<41 42 4>" {
		t.Errorf("hex string %+v", arr.Items[3])
	}
	if !arr.Items[4].Bool || arr.Items[5].Kind != Null || arr.Items[6].Kind != Name {
		t.Errorf("true null /N parsed as %+v", arr.Items[4:])
	}
	if s := o.Val("S").S; s != "a(b)\nAc" {
		t.Errorf("literal string %q", s)
	}
	if d, _ := o.Val("Dup").Int(); d != 1 {
		t.Errorf("repeated key: first must win, got %d", d)
	}
	if got := string(src[o.Entries[0].KeyStart:o.Entries[0].Value.End]); got != "/Type /Sig" {
		t.Errorf("key span %q", got)
	}
}

func TestParseIndirect(t *testing.T) {
	src := []byte("%PDF-1.7\n5 0 obj\n<< /Length 3 >>\nstream\nabc\nendstream\nendobj\n")
	off := bytes.Index(src, []byte("5 0 obj"))
	v, l, err := ParseIndirect(src, off, 5)
	if err != nil || v.Kind != Dict {
		t.Fatal(v, err)
	}
	l.Skip()
	if !bytes.HasPrefix(src[l.Pos:], []byte("stream")) {
		t.Errorf("lexer left at %q", src[l.Pos:])
	}
	if _, _, err := ParseIndirect(src, off, 6); err == nil {
		t.Error("wrong object number accepted")
	}
	if _, _, err := ParseIndirect(src, len(src), 5); err == nil {
		t.Error("offset past the end accepted")
	}
}

func TestContentStream(t *testing.T) {
	l := &Lexer{B: []byte("BT /F1 9 Tf 1 0 0 1 2.5 3 Tm (Hi) Tj [<0041> -3 (x)] TJ ET")}
	var ops []string
	for {
		v, err := l.Next()
		if errors.Is(err, ErrEOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if v.Kind == Ref {
			t.Fatalf("reference in a content stream: %+v", v)
		}
		if v.Kind == Op {
			ops = append(ops, v.S)
		}
	}
	if got := strings.Join(ops, " "); got != "BT Tf Tm Tj TJ ET" {
		t.Errorf("operators %q", got)
	}
}

func TestErrors(t *testing.T) {
	for name, src := range map[string]string{
		"deep":            strings.Repeat("[", MaxNesting+1) + strings.Repeat("]", MaxNesting+1),
		"long array":      "[" + strings.Repeat("0 ", MaxArrayItems+1) + "]",
		"many entries":    "<<" + strings.Repeat("/K 0 ", MaxDictEntries+1) + ">>",
		"unterminated":    "(abc",
		"unterminated <":  "<414",
		"bad hex":         "<41G1>",
		"key not name":    "<< 1 2 >>",
		"keyword in dict": "<< /A foo >>",
		"keyword in []":   "[1 foo]",
		"open array":      "[1 2",
		"open dict":       "<< /A 1",
		"long number":     strings.Repeat("1", 40),
		"bad number":      "1.2.3",
		"keyword":         "endobj",
		"empty":           "   % comment only",
	} {
		_, err := ParseAt([]byte(src), 0)
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: err = %v, want ErrSyntax", name, err)
		}
	}
	if _, err := ParseAt([]byte(strings.Repeat("[", MaxNesting)+strings.Repeat("]", MaxNesting)), 0); err != nil {
		t.Errorf("nesting at the limit: %v", err)
	}
}

// FuzzParse feeds hostile bytes to the object and content-stream syntax:
// no panic, spans inside the input, limits kept.
func FuzzParse(f *testing.F) {
	f.Add([]byte("<< /ByteRange [0 10 20 5] /Contents <3082ffff> /R 3 0 R >>"), true)
	f.Add([]byte("1 0 obj << /X [[[[[[[[ >> endobj"), true)
	f.Add([]byte("BT /F1 9 Tf (a\\(b\\)\\\r\n) Tj [<0010> 3 <0019>] TJ ET"), false)
	f.Add([]byte("<< /A#41 (\\101\\r) /B <4 1> /C [true false null] /D -.5 >>"), true)
	f.Fuzz(func(t *testing.T, data []byte, objects bool) {
		l := &Lexer{B: data, Objects: objects}
		for n := 0; n < 1000; n++ {
			start := l.Pos
			v, err := l.Next()
			if err != nil {
				if !errors.Is(err, ErrEOF) && !errors.Is(err, ErrSyntax) {
					t.Fatalf("error not wrapping ErrSyntax: %v", err)
				}
				break
			}
			if l.Pos <= start {
				t.Fatalf("no progress at %d", start)
			}
			check(t, v, len(data), 0)
		}
	})
}

func check(t *testing.T, o Object, n, depth int) {
	if depth > MaxNesting {
		t.Fatalf("nesting %d over the limit", depth)
	}
	if o.Start < 0 || o.End > n || o.Start > o.End {
		t.Fatalf("span [%d,%d) outside %d bytes", o.Start, o.End, n)
	}
	if len(o.Items) > MaxArrayItems || len(o.Entries) > MaxDictEntries {
		t.Fatalf("container over its limits: %d entries, %d items", len(o.Entries), len(o.Items))
	}
	for _, v := range o.Items {
		check(t, v, n, depth+1)
	}
	for _, e := range o.Entries {
		if e.KeyStart < o.Start || e.KeyStart >= e.Value.Start {
			t.Fatalf("key at %d outside its dictionary [%d,%d) or after its value at %d", e.KeyStart, o.Start, o.End, e.Value.Start)
		}
		check(t, e.Value, n, depth+1)
	}
}

func TestLongHexString(t *testing.T) {
	src := "<" + strings.Repeat("41", 100) + "\n4>"
	o, err := ParseAt([]byte(src), 0)
	if err != nil || o.S != strings.Repeat("A", 100)+"@" || o.End != len(src) {
		t.Fatalf("long hex string: %q %v", o.S, err)
	}
	if _, err := ParseAt([]byte("<"+strings.Repeat("41", 80)+"G1>"), 0); !errors.Is(err, ErrSyntax) {
		t.Errorf("bad digit in a long hex string: %v", err)
	}
}
