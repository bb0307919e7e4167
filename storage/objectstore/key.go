package objectstore

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on object keys.
const (
	// MaxKeyLen is the longest accepted key, in bytes.
	MaxKeyLen = 512
	// MaxSegmentLen is the longest accepted path segment, in bytes; it keeps
	// every segment a legal file name on common filesystems (255 bytes).
	MaxSegmentLen = 200
	// MaxSegments is the deepest accepted key.
	MaxSegments = 16
)

// ValidateKey reports whether key is an acceptable object name, wrapping
// ErrInvalidKey with the reason if not.
//
// A key is one or more segments separated by "/". Each segment is non-empty,
// does not start with "." (so "." and ".." are impossible and dot-names stay
// free for the filesystem backend's own use), and consists of Unicode letters
// and digits (certificate numbers carry a province character such as 京) and
// the punctuation - _ . ~ + = @ ,. There is no leading or trailing "/", no
// backslash, NUL, space or control character, and the key is valid UTF-8.
func ValidateKey(key string) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, truncateKey(key), fmt.Sprintf(format, a...))
	}
	switch {
	case key == "":
		return bad("empty")
	case len(key) > MaxKeyLen:
		return bad("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return bad("not valid UTF-8")
	}
	segs := strings.Split(key, "/")
	if len(segs) > MaxSegments {
		return bad("more than %d segments", MaxSegments)
	}
	for i, seg := range segs {
		switch {
		case seg == "":
			if i == 0 {
				return bad("absolute or leading slash")
			}
			return bad("empty segment")
		case len(seg) > MaxSegmentLen:
			return bad("segment longer than %d bytes", MaxSegmentLen)
		case seg[0] == '.':
			return bad("segment %q starts with a dot", seg)
		}
		for _, r := range seg {
			if !keyRuneOK(r) {
				return bad("character %U not allowed", r)
			}
		}
	}
	return nil
}

func keyRuneOK(r rune) bool {
	switch r {
	case '-', '_', '.', '~', '+', '=', '@', ',':
		return true
	}
	if r < 0x80 {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// truncateKey shortens a rejected key for error messages.
func truncateKey(key string) string {
	if len(key) <= 64 {
		return key
	}
	return key[:64] + "..."
}
