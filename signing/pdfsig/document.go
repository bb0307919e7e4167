package pdfsig

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/ecert/ecert/signing/internal/pdfobj"
)

// document is the part of a PDF's structure the signer needs: the
// cross-reference table (classic form only) and the last trailer.
type document struct {
	b         []byte
	offsets   map[int]int
	trailer   pdfobj.Object
	startxref int
	size      int
}

const maxXrefSections = 64

// lastStartxref finds the offset named by the last startxref keyword.
func lastStartxref(b []byte) (int, error) {
	tail := b
	if len(tail) > 2048 {
		tail = tail[len(tail)-2048:]
	}
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, errors.New("pdf: no startxref near the end of the file")
	}
	p := &pdfobj.Lexer{B: tail, Pos: i + len("startxref"), Objects: true}
	p.Skip()
	n, err := strconv.Atoi(string(p.Regular()))
	if err != nil || n < 0 || n >= len(b) {
		return 0, errors.New("pdf: bad startxref offset")
	}
	return n, nil
}

func readDocument(b []byte) (*document, error) {
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		return nil, errors.New("pdf: missing %PDF- header")
	}
	sx, err := lastStartxref(b)
	if err != nil {
		return nil, err
	}
	d := &document{b: b, offsets: map[int]int{}, startxref: sx}
	off := sx
	seen := map[int]bool{}
	for i := 0; ; i++ {
		if i == maxXrefSections || seen[off] {
			return nil, errors.New("pdf: cross-reference chain loops or is too long")
		}
		seen[off] = true
		tr, err := d.readXrefSection(off)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			d.trailer = tr
			sz, _ := tr.Get("Size")
			if d.size, _ = sz.Int(); d.size <= 0 {
				return nil, errors.New("pdf: trailer without /Size")
			}
		}
		prev, ok := tr.Get("Prev")
		if !ok {
			break
		}
		if off, ok = prev.Int(); !ok {
			return nil, errors.New("pdf: bad /Prev")
		}
	}
	return d, nil
}

func (d *document) readXrefSection(off int) (pdfobj.Object, error) {
	if off < 0 || off >= len(d.b) {
		return pdfobj.Object{}, errors.New("pdf: xref offset outside the file")
	}
	p := &pdfobj.Lexer{B: d.b, Pos: off, Objects: true}
	p.Skip()
	if string(p.Regular()) != "xref" {
		return pdfobj.Object{}, errors.New("pdf: cross-reference streams are not supported (need a classic xref table)")
	}
	for {
		p.Skip()
		save := p.Pos
		tok := string(p.Regular())
		if tok == "trailer" {
			break
		}
		start, err1 := strconv.Atoi(tok)
		p.Skip()
		count, err2 := strconv.Atoi(string(p.Regular()))
		if err1 != nil || err2 != nil || start < 0 || count < 0 || count > 1<<22 {
			p.Pos = save
			return pdfobj.Object{}, p.Errorf("bad xref subsection header")
		}
		for i := 0; i < count; i++ {
			p.Skip()
			o, err1 := strconv.Atoi(string(p.Regular()))
			p.Skip()
			p.Regular()
			p.Skip()
			typ := string(p.Regular())
			if err1 != nil || (typ != "n" && typ != "f") {
				return pdfobj.Object{}, p.Errorf("bad xref entry")
			}
			if _, done := d.offsets[start+i]; !done && typ == "n" {
				d.offsets[start+i] = o
			}
		}
	}
	tr, err := p.Value()
	if err != nil || tr.Kind != pdfobj.Dict {
		return pdfobj.Object{}, fmt.Errorf("pdf: bad trailer: %v", err)
	}
	return tr, nil
}

func (d *document) object(ref [2]int) (pdfobj.Object, error) {
	off, ok := d.offsets[ref[0]]
	if !ok {
		return pdfobj.Object{}, fmt.Errorf("pdf: object %d not in xref", ref[0])
	}
	v, _, err := pdfobj.ParseIndirect(d.b, off, ref[0])
	return v, err
}

func (d *document) resolve(o pdfobj.Object) (pdfobj.Object, error) {
	if o.Kind == pdfobj.Ref {
		return d.object(o.RefNum())
	}
	return o, nil
}

// page finds the index-th page (0-based) by walking the page tree.
func (d *document) page(root pdfobj.Object, index int) ([2]int, pdfobj.Object, error) {
	pagesRef, ok := root.Get("Pages")
	if !ok || pagesRef.Kind != pdfobj.Ref {
		return [2]int{}, pdfobj.Object{}, errors.New("pdf: catalog without /Pages reference")
	}
	n := index
	var walk func(ref [2]int, depth int) ([2]int, pdfobj.Object, bool, error)
	walk = func(ref [2]int, depth int) ([2]int, pdfobj.Object, bool, error) {
		if depth > 16 {
			return ref, pdfobj.Object{}, false, errors.New("pdf: page tree too deep")
		}
		node, err := d.object(ref)
		if err != nil {
			return ref, pdfobj.Object{}, false, err
		}
		if t, _ := node.Get("Type"); t.S == "Page" {
			if n == 0 {
				return ref, node, true, nil
			}
			n--
			return ref, pdfobj.Object{}, false, nil
		}
		kids, _ := node.Get("Kids")
		kids, err = d.resolve(kids)
		if err != nil || kids.Kind != pdfobj.Array {
			return ref, pdfobj.Object{}, false, errors.New("pdf: page tree node without /Kids")
		}
		for _, k := range kids.Items {
			if k.Kind != pdfobj.Ref {
				continue
			}
			r, o, found, err := walk(k.RefNum(), depth+1)
			if err != nil || found {
				return r, o, found, err
			}
		}
		return ref, pdfobj.Object{}, false, nil
	}
	r, o, found, err := walk(pagesRef.RefNum(), 0)
	if err != nil {
		return r, o, err
	}
	if !found {
		return r, o, fmt.Errorf("pdf: page %d does not exist", index+1)
	}
	return r, o, nil
}
