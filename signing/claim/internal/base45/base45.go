// Package base45 is the Base45 encoding of RFC 9285. Its 45 characters are
// exactly the QR code alphanumeric set, so an encoded claim fills a QR code
// in alphanumeric mode (5.5 bits a character) with no escaping.
package base45

import (
	"errors"
	"fmt"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

var decodeMap = func() (m [256]byte) {
	for i := range m {
		m[i] = 0xff
	}
	for i := range len(alphabet) {
		m[alphabet[i]] = byte(i)
	}
	return m
}()

// ErrInvalid is wrapped by every decoding error.
var ErrInvalid = errors.New("base45: invalid input")

// EncodedLen returns the length of the encoding of n bytes.
func EncodedLen(n int) int { return n/2*3 + n%2*2 }

// Encode returns the Base45 encoding of src.
func Encode(src []byte) string {
	dst := make([]byte, 0, EncodedLen(len(src)))
	for len(src) >= 2 {
		n := int(src[0])<<8 | int(src[1])
		dst = append(dst, alphabet[n%45], alphabet[n/45%45], alphabet[n/2025])
		src = src[2:]
	}
	if len(src) == 1 {
		n := int(src[0])
		dst = append(dst, alphabet[n%45], alphabet[n/45])
	}
	return string(dst)
}

// Decode returns the bytes s encodes. It refuses characters outside the
// alphabet, a length of 1 modulo 3, and groups whose value exceeds what
// their byte count can hold (RFC 9285 §4.3).
func Decode(s string) ([]byte, error) {
	if len(s)%3 == 1 {
		return nil, fmt.Errorf("%w: length %d is 1 modulo 3", ErrInvalid, len(s))
	}
	dst := make([]byte, 0, len(s)/3*2+len(s)%3/2)
	for i := 0; i < len(s); i += 3 {
		var v [3]int
		k := min(3, len(s)-i)
		for j := range k {
			d := decodeMap[s[i+j]]
			if d == 0xff {
				return nil, fmt.Errorf("%w: character %q at %d", ErrInvalid, s[i+j], i+j)
			}
			v[j] = int(d)
		}
		n := v[0] + v[1]*45 + v[2]*2025
		if k == 3 {
			if n > 0xffff {
				return nil, fmt.Errorf("%w: group %q at %d exceeds 65535", ErrInvalid, s[i:i+3], i)
			}
			dst = append(dst, byte(n>>8), byte(n))
		} else {
			if n > 0xff {
				return nil, fmt.Errorf("%w: final pair %q exceeds 255", ErrInvalid, s[i:])
			}
			dst = append(dst, byte(n))
		}
	}
	return dst, nil
}
