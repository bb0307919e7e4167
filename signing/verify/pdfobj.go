package verify

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// A small, bounded reader of PDF objects, enough to reach the page content
// streams and fonts of a signed document (classic cross-reference tables,
// as gopdf and our signer write them). Everything it reads is bounded:
// nesting, entries per container, cross-reference sections, stream sizes.

// Limits of the PDF object reader.
const (
	maxPDFNesting      = 32      // arrays and dictionaries inside each other
	maxPDFEntries      = 8192    // elements of one array or dictionary
	maxPDFXrefSections = 64      // /Prev chain
	maxPDFObjects      = 1 << 20 // object numbers in the cross-reference
	maxPDFResolve      = 16      // references followed to reach one value
)

type pkind uint8

const (
	pNull pkind = iota
	pBool
	pNum
	pName
	pString
	pArray
	pDict
	pRef
	pStream
	pOp // a bare keyword: an operator in a content stream or CMap
)

// pobj is one PDF value. Streams are dictionaries with their raw data.
type pobj struct {
	k    pkind
	num  float64 // number; object number of a reference
	b    bool
	s    string // name (without '/'), string bytes, operator
	a    []pobj
	d    map[string]pobj
	data []byte // stream data, not decoded
}

func (o pobj) get(key string) pobj {
	if o.d == nil {
		return pobj{}
	}
	return o.d[key]
}

func (o pobj) isInt() (int, bool) {
	if o.k != pNum || o.num != float64(int(o.num)) {
		return 0, false
	}
	return int(o.num), true
}

var errPDFSyntax = errors.New("pdf syntax error")

// lexer reads PDF tokens from b. refs enables "N G R" references (object
// syntax); content streams and CMaps have none.
type lexer struct {
	b     []byte
	pos   int
	depth int
	refs  bool
}

func isPDFWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (l *lexer) skip() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		switch {
		case isPDFWhite(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at byte %d: %s", errPDFSyntax, l.pos, fmt.Sprintf(format, args...))
}

// regular reads a run of regular characters.
func (l *lexer) regular() []byte {
	s := l.pos
	for l.pos < len(l.b) && !isPDFWhite(l.b[l.pos]) && !isPDFDelim(l.b[l.pos]) {
		l.pos++
	}
	return l.b[s:l.pos]
}

// next reads one value or operator. It returns io-style errEOF at the end.
func (l *lexer) next() (pobj, error) {
	l.skip()
	if l.pos >= len(l.b) {
		return pobj{}, errEOF
	}
	c := l.b[l.pos]
	switch {
	case c == '/':
		l.pos++
		return pobj{k: pName, s: string(unescapeName(l.regular()))}, nil
	case c == '(':
		return l.literal()
	case c == '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			return l.dict()
		}
		return l.hex()
	case c == '[':
		return l.array()
	case c == ']' || c == '>' || c == ')' || c == '{' || c == '}':
		l.pos++
		return pobj{k: pOp, s: string(c)}, nil
	}
	tok := l.regular()
	if len(tok) == 0 {
		l.pos++
		return pobj{}, l.errorf("unexpected %q", c)
	}
	switch string(tok) {
	case "true", "false":
		return pobj{k: pBool, b: tok[0] == 't'}, nil
	case "null":
		return pobj{}, nil
	}
	if c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9') {
		if !l.refs {
			// Content streams and CMaps: operand values are not needed.
			if isNumber(tok) {
				return pobj{k: pNum}, nil
			}
			return pobj{k: pOp, s: opName(tok)}, nil
		}
		f, err := strconv.ParseFloat(string(tok), 64)
		if err != nil {
			return pobj{k: pOp, s: string(tok)}, nil
		}
		if l.refs && c >= '0' && c <= '9' && bytes.IndexByte(tok, '.') < 0 {
			if ref, ok := l.tryRef(f); ok {
				return ref, nil
			}
		}
		return pobj{k: pNum, num: f}, nil
	}
	return pobj{k: pOp, s: opName(tok)}, nil
}

// isNumber reports whether tok is a PDF number: sign, digits, one point.
func isNumber(tok []byte) bool {
	if tok[0] == '+' || tok[0] == '-' {
		tok = tok[1:]
	}
	digits, point := 0, false
	for _, ch := range tok {
		switch {
		case ch >= '0' && ch <= '9':
			digits++
		case ch == '.' && !point:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// opName returns the operator without allocating for the common ones.
func opName(tok []byte) string {
	switch string(tok) {
	case "q":
		return "q"
	case "Q":
		return "Q"
	case "cm":
		return "cm"
	case "re":
		return "re"
	case "f":
		return "f"
	case "S":
		return "S"
	case "B":
		return "B"
	case "w":
		return "w"
	case "rg":
		return "rg"
	case "RG":
		return "RG"
	case "BT":
		return "BT"
	case "ET":
		return "ET"
	case "Td":
		return "Td"
	case "TD":
		return "TD"
	case "Tf":
		return "Tf"
	case "Tc":
		return "Tc"
	case "Tj":
		return "Tj"
	case "TJ":
		return "TJ"
	case "Do":
		return "Do"
	case "def":
		return "def"
	}
	return string(tok)
}

var errEOF = errors.New("end of data")

// tryRef recognises "G R" after an object number, restoring the position
// when they are not there.
func (l *lexer) tryRef(num float64) (pobj, bool) {
	save := l.pos
	l.skip()
	g := l.regular()
	if len(g) == 0 || len(g) > 5 {
		l.pos = save
		return pobj{}, false
	}
	for _, ch := range g {
		if ch < '0' || ch > '9' {
			l.pos = save
			return pobj{}, false
		}
	}
	l.skip()
	if l.pos < len(l.b) && l.b[l.pos] == 'R' && (l.pos+1 == len(l.b) || isPDFWhite(l.b[l.pos+1]) || isPDFDelim(l.b[l.pos+1])) {
		l.pos++
		return pobj{k: pRef, num: num}, true
	}
	l.pos = save
	return pobj{}, false
}

func unescapeName(b []byte) []byte {
	if bytes.IndexByte(b, '#') < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '#' && i+2 < len(b) {
			h, ok1 := unhex(b[i+1])
			lo, ok2 := unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|lo)
				i += 2
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) hex() (pobj, error) {
	l.pos++ // <
	out := make([]byte, 0, 16)
	var hi byte
	half := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		if c == '>' {
			if half {
				out = append(out, hi<<4)
			}
			return pobj{k: pString, s: string(out)}, nil
		}
		if isPDFWhite(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return pobj{}, l.errorf("bad hex digit %q", c)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	return pobj{}, l.errorf("unterminated hex string")
}

func (l *lexer) literal() (pobj, error) {
	l.pos++ // (
	var out []byte
	nest := 0
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			nest++
		case ')':
			if nest == 0 {
				return pobj{k: pString, s: string(out)}, nil
			}
			nest--
		case '\\':
			if l.pos >= len(l.b) {
				return pobj{}, l.errorf("unterminated string")
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; k++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return pobj{}, l.errorf("unterminated string")
}

func (l *lexer) enter() error {
	l.depth++
	if l.depth > maxPDFNesting {
		return l.errorf("nesting deeper than %d", maxPDFNesting)
	}
	return nil
}

func (l *lexer) array() (pobj, error) {
	l.pos++ // [
	if err := l.enter(); err != nil {
		return pobj{}, err
	}
	defer func() { l.depth-- }()
	o := pobj{k: pArray}
	for {
		v, err := l.next()
		if err != nil {
			if err == errEOF {
				return pobj{}, l.errorf("unterminated array")
			}
			return pobj{}, err
		}
		if v.k == pOp {
			if v.s == "]" {
				return o, nil
			}
			if !l.refs {
				// Content streams: a stray keyword inside an array is an error.
				return pobj{}, l.errorf("operator %q inside an array", v.s)
			}
		}
		if len(o.a) >= maxPDFEntries {
			return pobj{}, l.errorf("array of more than %d entries", maxPDFEntries)
		}
		o.a = append(o.a, v)
	}
}

func (l *lexer) dict() (pobj, error) {
	l.pos += 2 // <<
	if err := l.enter(); err != nil {
		return pobj{}, err
	}
	defer func() { l.depth-- }()
	o := pobj{k: pDict, d: map[string]pobj{}}
	for {
		l.skip()
		if l.pos+1 < len(l.b) && l.b[l.pos] == '>' && l.b[l.pos+1] == '>' {
			l.pos += 2
			return o, nil
		}
		k, err := l.next()
		if err != nil {
			if err == errEOF {
				return pobj{}, l.errorf("unterminated dictionary")
			}
			return pobj{}, err
		}
		if k.k != pName {
			return pobj{}, l.errorf("dictionary key is not a name")
		}
		v, err := l.next()
		if err != nil {
			if err == errEOF {
				return pobj{}, l.errorf("unterminated dictionary")
			}
			return pobj{}, err
		}
		if len(o.d) >= maxPDFEntries {
			return pobj{}, l.errorf("dictionary of more than %d entries", maxPDFEntries)
		}
		o.d[k.s] = v
	}
}

// pdfFile resolves indirect objects of one PDF revision through its
// classic cross-reference tables.
type pdfFile struct {
	b       []byte
	offsets map[int]int
	trailer pobj
	cache   map[int]pobj
	loading int // objects being read inside each other (stream /Length)
}

// openPDF reads the cross-reference chain that ends at the last startxref
// of b.
func openPDF(b []byte) (*pdfFile, error) {
	i := bytes.LastIndex(b, []byte("startxref"))
	if i < 0 {
		return nil, errors.New("pdf: no startxref")
	}
	l := &lexer{b: b, pos: i + len("startxref"), refs: true}
	v, err := l.next()
	off, ok := v.isInt()
	if err != nil || !ok || off < 0 || off >= len(b) {
		return nil, errors.New("pdf: bad startxref offset")
	}
	f := &pdfFile{b: b, offsets: map[int]int{}, cache: map[int]pobj{}}
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
		if f.trailer.k == pNull {
			f.trailer = tr
		}
		prev := tr.get("Prev")
		if prev.k == pNull {
			break
		}
		p, ok := prev.isInt()
		if !ok || p < 0 || p >= len(b) {
			return nil, errors.New("pdf: bad /Prev offset")
		}
		off = p
	}
	return f, nil
}

// readXref reads one classic cross-reference section at off; entries
// already known (from newer sections) win.
func (f *pdfFile) readXref(off int) (pobj, error) {
	l := &lexer{b: f.b, pos: off, refs: true}
	l.skip()
	if !bytes.HasPrefix(f.b[l.pos:], []byte("xref")) {
		return pobj{}, errors.New("pdf: cross-reference streams are not supported (no classic xref table at startxref)")
	}
	l.pos += 4
	for {
		l.skip()
		if bytes.HasPrefix(f.b[l.pos:], []byte("trailer")) {
			l.pos += len("trailer")
			tr, err := l.next()
			if err != nil || tr.k != pDict {
				return pobj{}, errors.New("pdf: bad trailer dictionary")
			}
			return tr, nil
		}
		a, err1 := l.next()
		c, err2 := l.next()
		start, ok1 := a.isInt()
		count, ok2 := c.isInt()
		if err1 != nil || err2 != nil || !ok1 || !ok2 || start < 0 || count < 0 || start+count > maxPDFObjects {
			return pobj{}, errors.New("pdf: bad cross-reference subsection header")
		}
		l.skip()
		if count*20 > len(f.b)-l.pos {
			return pobj{}, errors.New("pdf: cross-reference subsection runs past the end of the file")
		}
		for k := 0; k < count; k++ {
			e := f.b[l.pos : l.pos+20]
			// "oooooooooo ggggg n\r\n" (the EOL may be " \n", " \r" or "\r\n").
			if e[10] != ' ' || e[16] != ' ' {
				return pobj{}, errors.New("pdf: bad cross-reference entry")
			}
			if e[17] == 'n' {
				o, err := strconv.Atoi(string(e[:10]))
				if err != nil {
					return pobj{}, errors.New("pdf: bad cross-reference entry offset")
				}
				if _, ok := f.offsets[start+k]; !ok {
					f.offsets[start+k] = o
				}
			} else if _, ok := f.offsets[start+k]; !ok {
				f.offsets[start+k] = -1 // free in the newest section that lists it
			}
			l.pos += 20
		}
	}
}

// object returns indirect object num (nil object when free or absent).
func (f *pdfFile) object(num int) (pobj, error) {
	if o, ok := f.cache[num]; ok {
		return o, nil
	}
	off, ok := f.offsets[num]
	if !ok || off < 0 {
		return pobj{}, nil
	}
	if off >= len(f.b) {
		return pobj{}, fmt.Errorf("pdf: object %d offset %d past the end of the file", num, off)
	}
	if f.loading >= maxPDFResolve {
		return pobj{}, fmt.Errorf("pdf: object %d: references nested deeper than %d", num, maxPDFResolve)
	}
	f.loading++
	defer func() { f.loading-- }()
	l := &lexer{b: f.b, pos: off, refs: true}
	n, _ := l.next()
	g, _ := l.next()
	kw, _ := l.next()
	if got, ok := n.isInt(); !ok || got != num || g.k != pNum || kw.k != pOp || kw.s != "obj" {
		return pobj{}, fmt.Errorf("pdf: object %d not found at offset %d", num, off)
	}
	v, err := l.next()
	if err != nil {
		return pobj{}, fmt.Errorf("pdf: object %d: %w", num, err)
	}
	if v.k == pDict {
		save := l.pos
		l.skip()
		if bytes.HasPrefix(f.b[l.pos:], []byte("stream")) {
			l.pos += len("stream")
			if l.pos < len(f.b) && f.b[l.pos] == '\r' {
				l.pos++
			}
			if l.pos < len(f.b) && f.b[l.pos] == '\n' {
				l.pos++
			}
			f.cache[num] = pobj{} // a /Length that refers back to this object resolves to null
			n, ok := f.resolveDepth(v.get("Length"), 0).isInt()
			if !ok || n < 0 || n > len(f.b)-l.pos {
				delete(f.cache, num)
				return pobj{}, fmt.Errorf("pdf: object %d: bad stream /Length", num)
			}
			v.k, v.data = pStream, f.b[l.pos:l.pos+n]
		} else {
			l.pos = save
		}
	}
	f.cache[num] = v
	return v, nil
}

// resolve follows references to a direct value (null when broken).
func (f *pdfFile) resolve(o pobj) pobj { return f.resolveDepth(o, 0) }

func (f *pdfFile) resolveDepth(o pobj, depth int) pobj {
	for o.k == pRef {
		if depth >= maxPDFResolve {
			return pobj{}
		}
		depth++
		v, err := f.object(int(o.num))
		if err != nil {
			return pobj{}
		}
		o = v
	}
	return o
}
