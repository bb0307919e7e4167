package pdfsig

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// document is the part of a PDF's structure the signer needs: the
// cross-reference table (classic form only) and the last trailer.
type document struct {
	b         []byte
	offsets   map[int]int
	trailer   object
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
	p := &parser{b: tail, pos: i + len("startxref")}
	p.skip()
	n, err := strconv.Atoi(string(p.token()))
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
			sz, _ := tr.get("Size")
			if d.size, _ = sz.int(); d.size <= 0 {
				return nil, errors.New("pdf: trailer without /Size")
			}
		}
		prev, ok := tr.get("Prev")
		if !ok {
			break
		}
		if off, ok = prev.int(); !ok {
			return nil, errors.New("pdf: bad /Prev")
		}
	}
	return d, nil
}

func (d *document) readXrefSection(off int) (object, error) {
	if off < 0 || off >= len(d.b) {
		return object{}, errors.New("pdf: xref offset outside the file")
	}
	p := &parser{b: d.b, pos: off}
	p.skip()
	if string(p.token()) != "xref" {
		return object{}, errors.New("pdf: cross-reference streams are not supported (need a classic xref table)")
	}
	for {
		p.skip()
		save := p.pos
		tok := string(p.token())
		if tok == "trailer" {
			break
		}
		start, err1 := strconv.Atoi(tok)
		p.skip()
		count, err2 := strconv.Atoi(string(p.token()))
		if err1 != nil || err2 != nil || start < 0 || count < 0 || count > 1<<22 {
			p.pos = save
			return object{}, p.fail("bad xref subsection header")
		}
		for i := 0; i < count; i++ {
			p.skip()
			o, err1 := strconv.Atoi(string(p.token()))
			p.skip()
			p.token()
			p.skip()
			typ := string(p.token())
			if err1 != nil || (typ != "n" && typ != "f") {
				return object{}, p.fail("bad xref entry")
			}
			if _, done := d.offsets[start+i]; !done && typ == "n" {
				d.offsets[start+i] = o
			}
		}
	}
	tr, err := p.value()
	if err != nil || tr.kind != kDict {
		return object{}, fmt.Errorf("pdf: bad trailer: %v", err)
	}
	return tr, nil
}

func (d *document) object(ref [2]int) (object, error) {
	off, ok := d.offsets[ref[0]]
	if !ok {
		return object{}, fmt.Errorf("pdf: object %d not in xref", ref[0])
	}
	return parseIndirect(d.b, off, ref[0])
}

func (d *document) resolve(o object) (object, error) {
	if o.kind == kRef {
		return d.object(o.ref)
	}
	return o, nil
}

// page finds the index-th page (0-based) by walking the page tree.
func (d *document) page(root object, index int) ([2]int, object, error) {
	pagesRef, ok := root.get("Pages")
	if !ok || pagesRef.kind != kRef {
		return [2]int{}, object{}, errors.New("pdf: catalog without /Pages reference")
	}
	n := index
	var walk func(ref [2]int, depth int) ([2]int, object, bool, error)
	walk = func(ref [2]int, depth int) ([2]int, object, bool, error) {
		if depth > 16 {
			return ref, object{}, false, errors.New("pdf: page tree too deep")
		}
		node, err := d.object(ref)
		if err != nil {
			return ref, object{}, false, err
		}
		if t, _ := node.get("Type"); t.name == "Page" {
			if n == 0 {
				return ref, node, true, nil
			}
			n--
			return ref, object{}, false, nil
		}
		kids, _ := node.get("Kids")
		kids, err = d.resolve(kids)
		if err != nil || kids.kind != kArray {
			return ref, object{}, false, errors.New("pdf: page tree node without /Kids")
		}
		for _, k := range kids.vals {
			if k.kind != kRef {
				continue
			}
			r, o, found, err := walk(k.ref, depth+1)
			if err != nil || found {
				return r, o, found, err
			}
		}
		return ref, object{}, false, nil
	}
	r, o, found, err := walk(pagesRef.ref, 0)
	if err != nil {
		return r, o, err
	}
	if !found {
		return r, o, fmt.Errorf("pdf: page %d does not exist", index+1)
	}
	return r, o, nil
}
