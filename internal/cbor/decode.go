package cbor

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting of arrays, maps and tags that Marshal
// writes and Unmarshal accepts; a top-level scalar is at depth 0.
const MaxDepth = 16

// Refusals of Unmarshal (and, where they apply, Marshal). Errors wrap one of
// these, with the byte offset where the problem was found.
var (
	ErrTruncated    = errors.New("unexpected end of data")
	ErrTrailing     = errors.New("trailing bytes after the data item")
	ErrIndefinite   = errors.New("indefinite length not allowed")
	ErrNotMinimal   = errors.New("argument not in its shortest form")
	ErrReserved     = errors.New("reserved additional information value")
	ErrUnsupported  = errors.New("unsupported simple or floating-point value")
	ErrInvalidUTF8  = errors.New("text string is not valid UTF-8")
	ErrKeyType      = errors.New("map key is neither an integer nor a text string")
	ErrDuplicateKey = errors.New("duplicate map key")
	ErrUnsorted     = errors.New("map keys not in deterministic order")
	ErrDepth        = errors.New("nesting deeper than cbor.MaxDepth")
	ErrTooLong      = errors.New("length exceeds the remaining data")
)

// Unmarshal decodes data, which must be exactly one data item in the core
// deterministic encoding. The result does not share memory with data.
func Unmarshal(data []byte) (Value, error) {
	d := decoder{data: data}
	v, err := d.value(0)
	if err != nil {
		return Value{}, err
	}
	if d.off != len(data) {
		return Value{}, d.errorf(ErrTrailing, "%d bytes", len(data)-d.off)
	}
	return v, nil
}

type decoder struct {
	data []byte
	off  int
}

func (d *decoder) errorf(err error, format string, args ...any) error {
	if format == "" {
		return fmt.Errorf("cbor: offset %d: %w", d.off, err)
	}
	return fmt.Errorf("cbor: offset %d: %w: %s", d.off, err, fmt.Sprintf(format, args...))
}

func (d *decoder) remaining() uint64 { return uint64(len(d.data) - d.off) }

// head reads an initial byte and its argument, refusing indefinite lengths,
// reserved values and arguments that have a shorter encoding.
func (d *decoder) head() (major byte, info byte, arg uint64, err error) {
	if d.off >= len(d.data) {
		return 0, 0, 0, d.errorf(ErrTruncated, "")
	}
	ib := d.data[d.off]
	major, info = ib>>5, ib&0x1f
	var n int
	var min uint64
	switch {
	case info < 24:
		d.off++
		return major, info, uint64(info), nil
	case info == 24:
		n, min = 1, 24
	case info == 25:
		n, min = 2, 0x100
	case info == 26:
		n, min = 4, 0x10000
	case info == 27:
		n, min = 8, 0x100000000
	case info == 31:
		return 0, 0, 0, d.errorf(ErrIndefinite, "initial byte 0x%02x", ib)
	default:
		return 0, 0, 0, d.errorf(ErrReserved, "initial byte 0x%02x", ib)
	}
	if major == majorOther {
		// Floats and one-byte simple values: never minimal-checked here,
		// refused by the caller.
		return major, info, 0, nil
	}
	if len(d.data)-d.off-1 < n {
		return 0, 0, 0, d.errorf(ErrTruncated, "argument of initial byte 0x%02x", ib)
	}
	for _, b := range d.data[d.off+1 : d.off+1+n] {
		arg = arg<<8 | uint64(b)
	}
	if arg < min {
		return 0, 0, 0, d.errorf(ErrNotMinimal, "%d in %d bytes", arg, n)
	}
	d.off += 1 + n
	return major, info, arg, nil
}

func (d *decoder) value(depth int) (Value, error) {
	start := d.off
	major, info, arg, err := d.head()
	if err != nil {
		return Value{}, err
	}
	switch major {
	case majorUint:
		return Value{kind: KindUint, n: arg}, nil
	case majorNeg:
		return Value{kind: KindNeg, n: arg}, nil
	case majorBytes, majorText:
		if arg > d.remaining() {
			return Value{}, d.errorf(ErrTooLong, "string of %d bytes, %d left", arg, d.remaining())
		}
		b := bytes.Clone(d.data[d.off : d.off+int(arg)])
		if b == nil {
			b = []byte{}
		}
		if major == majorText {
			if !utf8.Valid(b) {
				d.off = start
				return Value{}, d.errorf(ErrInvalidUTF8, "")
			}
			d.off += int(arg)
			return Value{kind: KindText, b: b}, nil
		}
		d.off += int(arg)
		return Value{kind: KindBytes, b: b}, nil
	case majorOther:
		switch info {
		case simpleFalse:
			return Bool(false), nil
		case simpleTrue:
			return Bool(true), nil
		case simpleNull:
			return Null(), nil
		}
		d.off = start
		return Value{}, d.errorf(ErrUnsupported, "initial byte 0x%02x", d.data[start])
	}
	if depth >= MaxDepth {
		d.off = start
		return Value{}, d.errorf(ErrDepth, "")
	}
	switch major {
	case majorArray:
		// Every item takes at least one byte.
		if arg > d.remaining() {
			return Value{}, d.errorf(ErrTooLong, "array of %d items, %d bytes left", arg, d.remaining())
		}
		items := make([]Value, arg)
		for i := range items {
			if items[i], err = d.value(depth + 1); err != nil {
				return Value{}, err
			}
		}
		return Value{kind: KindArray, items: items}, nil
	case majorMap:
		// Every entry takes at least two bytes.
		if arg > d.remaining()/2 {
			return Value{}, d.errorf(ErrTooLong, "map of %d entries, %d bytes left", arg, d.remaining())
		}
		pairs := make([]Pair, arg)
		var prev []byte
		for i := range pairs {
			ks := d.off
			if pairs[i].Key, err = d.value(depth + 1); err != nil {
				return Value{}, err
			}
			if k := pairs[i].Key.kind; k != KindUint && k != KindNeg && k != KindText {
				d.off = ks
				return Value{}, d.errorf(ErrKeyType, "%s", k)
			}
			// The input is deterministic up to here, so equal keys have
			// equal encodings.
			key := d.data[ks:d.off]
			if i > 0 {
				switch c := bytes.Compare(prev, key); {
				case c == 0:
					d.off = ks
					return Value{}, d.errorf(ErrDuplicateKey, "%x", key)
				case c > 0:
					d.off = ks
					return Value{}, d.errorf(ErrUnsorted, "%x after %x", key, prev)
				}
			}
			prev = key
			if pairs[i].Val, err = d.value(depth + 1); err != nil {
				return Value{}, err
			}
		}
		return Value{kind: KindMap, pairs: pairs}, nil
	default: // majorTag
		content, err := d.value(depth + 1)
		if err != nil {
			return Value{}, err
		}
		return Value{kind: KindTag, n: arg, items: []Value{content}}, nil
	}
}
