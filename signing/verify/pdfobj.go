package verify

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/ecert/ecert/signing/internal/pdfobj"
)

// The verifier's reader of a PDF's indirect objects, enough to reach the
// page content streams and fonts of a signed document (classic
// cross-reference tables, as gopdf and our signer write them). The syntax
// itself is read by signing/internal/pdfobj, shared with the signer; what is
// bounded here: cross-reference sections, object numbers, stream sizes and
// chains of references.

// Limits of the PDF object reader.
const (
	maxPDFXrefSections = 64      // /Prev chain
	maxPDFObjects      = 1 << 20 // object numbers in the cross-reference
	maxPDFResolve      = 16      // references followed to reach one value
)

// isInt returns a number with an integral value.
func isInt(o pdfobj.Object) (int, bool) {
	if o.Kind != pdfobj.Number || o.Num != float64(int(o.Num)) {
		return 0, false
	}
	return int(o.Num), true
}

// pdfFile resolves indirect objects of one PDF revision through its
// classic cross-reference tables.
type pdfFile struct {
	b       []byte
	offsets map[int]int
	trailer pdfobj.Object
	cache   map[int]pdfobj.Object
	loading int // objects being read inside each other (stream /Length)
}

// openPDF reads the cross-reference chain that ends at the last startxref
// of b.
func openPDF(b []byte) (*pdfFile, error) {
	i := bytes.LastIndex(b, []byte("startxref"))
	if i < 0 {
		return nil, errors.New("pdf: no startxref")
	}
	l := &pdfobj.Lexer{B: b, Pos: i + len("startxref"), Objects: true}
	v, err := l.Next()
	off, ok := isInt(v)
	if err != nil || !ok || off < 0 || off >= len(b) {
		return nil, errors.New("pdf: bad startxref offset")
	}
	f := &pdfFile{b: b, offsets: map[int]int{}, cache: map[int]pdfobj.Object{}}
	seen := map[int]bool{}
	for n := 0; ; n++ {
		if n >= maxPDFXrefSections {
			return nil, fmt.Errorf("pdf: more than %d cross-reference sections", maxPDFXrefSections)
		}
		if seen[off] {
			return nil, errors.New("pdf: cross-reference /Prev loop")
		}
		seen[off] = true
		tr, err := f.readXref(off)
		if err != nil {
			return nil, err
		}
		if f.trailer.Kind == pdfobj.Null {
			f.trailer = tr
		}
		prev := tr.Val("Prev")
		if prev.Kind == pdfobj.Null {
			break
		}
		p, ok := isInt(prev)
		if !ok || p < 0 || p >= len(b) {
			return nil, errors.New("pdf: bad /Prev offset")
		}
		off = p
	}
	return f, nil
}

// readXref reads one classic cross-reference section at off; entries
// already known (from newer sections) win.
func (f *pdfFile) readXref(off int) (pdfobj.Object, error) {
	l := &pdfobj.Lexer{B: f.b, Pos: off, Objects: true}
	l.Skip()
	if !bytes.HasPrefix(f.b[l.Pos:], []byte("xref")) {
		return pdfobj.Object{}, errors.New("pdf: cross-reference streams are not supported (no classic xref table at startxref)")
	}
	l.Pos += 4
	for {
		l.Skip()
		if bytes.HasPrefix(f.b[l.Pos:], []byte("trailer")) {
			l.Pos += len("trailer")
			tr, err := l.Next()
			if err != nil || tr.Kind != pdfobj.Dict {
				return pdfobj.Object{}, errors.New("pdf: bad trailer dictionary")
			}
			return tr, nil
		}
		a, err1 := l.Next()
		c, err2 := l.Next()
		start, ok1 := isInt(a)
		count, ok2 := isInt(c)
		if err1 != nil || err2 != nil || !ok1 || !ok2 || start < 0 || count < 0 || start+count > maxPDFObjects {
			return pdfobj.Object{}, errors.New("pdf: bad cross-reference subsection header")
		}
		l.Skip()
		if count*20 > len(f.b)-l.Pos {
			return pdfobj.Object{}, errors.New("pdf: cross-reference subsection runs past the end of the file")
		}
		for k := 0; k < count; k++ {
			e := f.b[l.Pos : l.Pos+20]
			// "oooooooooo ggggg n\r\n" (the EOL may be " \n", " \r" or "\r\n").
			if e[10] != ' ' || e[16] != ' ' {
				return pdfobj.Object{}, errors.New("pdf: bad cross-reference entry")
			}
			if e[17] == 'n' {
				o, err := strconv.Atoi(string(e[:10]))
				if err != nil {
					return pdfobj.Object{}, errors.New("pdf: bad cross-reference entry offset")
				}
				if _, ok := f.offsets[start+k]; !ok {
					f.offsets[start+k] = o
				}
			} else if _, ok := f.offsets[start+k]; !ok {
				f.offsets[start+k] = -1 // free in the newest section that lists it
			}
			l.Pos += 20
		}
	}
}

// object returns indirect object num (nil object when free or absent).
func (f *pdfFile) object(num int) (pdfobj.Object, error) {
	if o, ok := f.cache[num]; ok {
		return o, nil
	}
	off, ok := f.offsets[num]
	if !ok || off < 0 {
		return pdfobj.Object{}, nil
	}
	if off >= len(f.b) {
		return pdfobj.Object{}, fmt.Errorf("pdf: object %d offset %d past the end of the file", num, off)
	}
	if f.loading >= maxPDFResolve {
		return pdfobj.Object{}, fmt.Errorf("pdf: object %d: references nested deeper than %d", num, maxPDFResolve)
	}
	f.loading++
	defer func() { f.loading-- }()
	l := &pdfobj.Lexer{B: f.b, Pos: off, Objects: true}
	n, _ := l.Next()
	g, _ := l.Next()
	kw, _ := l.Next()
	if got, ok := isInt(n); !ok || got != num || g.Kind != pdfobj.Number || kw.Kind != pdfobj.Op || kw.S != "obj" {
		return pdfobj.Object{}, fmt.Errorf("pdf: object %d not found at offset %d", num, off)
	}
	v, err := l.Next()
	if err != nil {
		return pdfobj.Object{}, fmt.Errorf("pdf: object %d: %w", num, err)
	}
	if v.Kind == pdfobj.Dict {
		save := l.Pos
		l.Skip()
		if bytes.HasPrefix(f.b[l.Pos:], []byte("stream")) {
			l.Pos += len("stream")
			if l.Pos < len(f.b) && f.b[l.Pos] == '\r' {
				l.Pos++
			}
			if l.Pos < len(f.b) && f.b[l.Pos] == '\n' {
				l.Pos++
			}
			f.cache[num] = pdfobj.Object{} // a /Length that refers back to this object resolves to null
			n, ok := isInt(f.resolveDepth(v.Val("Length"), 0))
			if !ok || n < 0 || n > len(f.b)-l.Pos {
				delete(f.cache, num)
				return pdfobj.Object{}, fmt.Errorf("pdf: object %d: bad stream /Length", num)
			}
			v.Kind, v.Data = pdfobj.Stream, f.b[l.Pos:l.Pos+n]
		} else {
			l.Pos = save
		}
	}
	f.cache[num] = v
	return v, nil
}

// resolve follows references to a direct value (null when broken).
func (f *pdfFile) resolve(o pdfobj.Object) pdfobj.Object { return f.resolveDepth(o, 0) }

func (f *pdfFile) resolveDepth(o pdfobj.Object, depth int) pdfobj.Object {
	for o.Kind == pdfobj.Ref {
		if depth >= maxPDFResolve {
			return pdfobj.Object{}
		}
		depth++
		v, err := f.object(int(o.Num))
		if err != nil {
			return pdfobj.Object{}
		}
		o = v
	}
	return o
}
