package pdfsig

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// Limits of the PDF object parser, which reads hostile input when verifying.
const (
	maxDepth       = 32
	maxDictEntries = 4096
	maxArrayItems  = 1 << 16
)

type kind int

const (
	kNull kind = iota
	kBool
	kNum
	kRef
	kName
	kString
	kArray
	kDict
)

// object is one parsed PDF value with its byte span in the source.
type object struct {
	kind       kind
	start, end int
	keys       []string // kDict
	vals       []object // kDict values, kArray items
	keyStart   []int    // kDict: offset of each key's '/'
	name       string   // kName
	str        []byte   // kString (decoded)
	num        string   // kNum (literal)
	ref        [2]int   // kRef
	boolean    bool
}

func (o object) get(key string) (object, bool) {
	for i, k := range o.keys {
		if k == key {
			return o.vals[i], true
		}
	}
	return object{}, false
}

func (o object) int() (int, bool) {
	if o.kind != kNum {
		return 0, false
	}
	n, err := strconv.Atoi(o.num)
	return n, err == nil
}

type parser struct {
	b     []byte
	pos   int
	depth int
}

var errSyntax = errors.New("pdf syntax error")

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (p *parser) skip() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if isWhite(c) {
			p.pos++
		} else if c == '%' {
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
		} else {
			return
		}
	}
}

func (p *parser) fail(what string) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, p.pos, what)
}

func (p *parser) token() []byte {
	s := p.pos
	for p.pos < len(p.b) && !isWhite(p.b[p.pos]) && !isDelim(p.b[p.pos]) {
		p.pos++
	}
	return p.b[s:p.pos]
}

// value parses one value at the current position.
func (p *parser) value() (object, error) {
	p.skip()
	if p.pos >= len(p.b) {
		return object{}, p.fail("unexpected end")
	}
	start := p.pos
	c := p.b[p.pos]
	switch {
	case c == '<' && p.pos+1 < len(p.b) && p.b[p.pos+1] == '<':
		return p.dict()
	case c == '<':
		return p.hexString()
	case c == '(':
		return p.literalString()
	case c == '[':
		return p.array()
	case c == '/':
		p.pos++
		name := p.token()
		return object{kind: kName, name: string(name), start: start, end: p.pos}, nil
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		num := p.token()
		if len(num) == 0 || len(num) > 32 {
			return object{}, p.fail("bad number")
		}
		o := object{kind: kNum, num: string(num), start: start, end: p.pos}
		// An indirect reference "n g R"?
		if n, ok := o.int(); ok && n >= 0 {
			save := p.pos
			p.skip()
			g := p.token()
			if gn, err := strconv.Atoi(string(g)); err == nil && gn >= 0 && len(g) > 0 {
				p.skip()
				if p.pos < len(p.b) && p.b[p.pos] == 'R' && (p.pos+1 == len(p.b) || isWhite(p.b[p.pos+1]) || isDelim(p.b[p.pos+1])) {
					p.pos++
					return object{kind: kRef, ref: [2]int{n, gn}, start: start, end: p.pos}, nil
				}
			}
			p.pos = save
		}
		return o, nil
	default:
		tok := p.token()
		switch string(tok) {
		case "true", "false":
			return object{kind: kBool, boolean: string(tok) == "true", start: start, end: p.pos}, nil
		case "null":
			return object{kind: kNull, start: start, end: p.pos}, nil
		}
		if len(tok) == 0 {
			p.pos++
		}
		return object{}, p.fail(fmt.Sprintf("unexpected %q", tok))
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.fail("nesting too deep")
	}
	return nil
}

func (p *parser) dict() (object, error) {
	if err := p.enter(); err != nil {
		return object{}, err
	}
	defer func() { p.depth-- }()
	o := object{kind: kDict, start: p.pos}
	p.pos += 2
	for {
		p.skip()
		if p.pos+1 < len(p.b) && p.b[p.pos] == '>' && p.b[p.pos+1] == '>' {
			p.pos += 2
			o.end = p.pos
			return o, nil
		}
		if p.pos >= len(p.b) || p.b[p.pos] != '/' {
			return object{}, p.fail("dictionary key expected")
		}
		if len(o.keys) == maxDictEntries {
			return object{}, p.fail("too many dictionary entries")
		}
		ks := p.pos
		p.pos++
		key := string(p.token())
		v, err := p.value()
		if err != nil {
			return object{}, err
		}
		o.keys = append(o.keys, key)
		o.keyStart = append(o.keyStart, ks)
		o.vals = append(o.vals, v)
	}
}

func (p *parser) array() (object, error) {
	if err := p.enter(); err != nil {
		return object{}, err
	}
	defer func() { p.depth-- }()
	o := object{kind: kArray, start: p.pos}
	p.pos++
	for {
		p.skip()
		if p.pos < len(p.b) && p.b[p.pos] == ']' {
			p.pos++
			o.end = p.pos
			return o, nil
		}
		if len(o.vals) == maxArrayItems {
			return object{}, p.fail("array too long")
		}
		v, err := p.value()
		if err != nil {
			return object{}, err
		}
		o.vals = append(o.vals, v)
	}
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

func (p *parser) hexString() (object, error) {
	o := object{kind: kString, start: p.pos}
	p.pos++
	end := bytes.IndexByte(p.b[p.pos:], '>')
	if end < 0 {
		return object{}, p.fail("unterminated hex string")
	}
	raw := p.b[p.pos : p.pos+end]
	out := make([]byte, 0, len(raw)/2+1)
	var hi byte
	half := false
	for _, c := range raw {
		if isWhite(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return object{}, p.fail("bad hex digit")
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	p.pos += end + 1
	o.str, o.end = out, p.pos
	return o, nil
}

func (p *parser) literalString() (object, error) {
	o := object{kind: kString, start: p.pos}
	p.pos++
	var out []byte
	level := 1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			level++
		case ')':
			level--
			if level == 0 {
				o.str, o.end = out, p.pos
				return o, nil
			}
		case '\\':
			if p.pos >= len(p.b) {
				return object{}, p.fail("unterminated string")
			}
			e := p.b[p.pos]
			p.pos++
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
			case '\r', '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for i := 0; i < 2 && p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '7'; i++ {
						v = v*8 + int(p.b[p.pos]-'0')
						p.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return object{}, p.fail("unterminated string")
}

// parseAt parses one value at offset off of b.
func parseAt(b []byte, off int) (object, error) {
	if off < 0 || off >= len(b) {
		return object{}, fmt.Errorf("%w: offset %d outside the file", errSyntax, off)
	}
	p := &parser{b: b, pos: off}
	return p.value()
}

// parseIndirect parses "n g obj <value>" at off and checks the object number.
func parseIndirect(b []byte, off, num int) (object, error) {
	if off < 0 || off >= len(b) {
		return object{}, fmt.Errorf("object %d: offset %d outside the file", num, off)
	}
	p := &parser{b: b, pos: off}
	p.skip()
	n, err := strconv.Atoi(string(p.token()))
	if err != nil || n != num {
		return object{}, fmt.Errorf("object %d: xref offset %d does not point at it", num, off)
	}
	p.skip()
	p.token()
	p.skip()
	if string(p.token()) != "obj" {
		return object{}, fmt.Errorf("object %d: 'obj' keyword missing", num)
	}
	return p.value()
}
