package objectstore

import (
	"errors"
	"path"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateKey(t *testing.T) {
	good := []string{"a", "certificates/京2112020202100001/v1/certificate.pdf", "copies/x/0f3a-b_c.ofd", "a.b", "a~b+c=d@e,f", "x/" + strings.Repeat("y", MaxSegmentLen)}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v", k, err)
		}
	}
	bad := []string{"", "/", "/a", "a/", "a//b", ".", "..", "../a", "a/..", "a/../b", "a/./b", ".a", "a/.b", "a\\b", "..\\a", "a\x00", "a b", "a\tb", "a\nb", "C:", "a:b", "a?b", "a*b", "a%2fb", "\xc3", "\u202e", strings.Repeat("a", MaxKeyLen+1), "x/" + strings.Repeat("y", MaxSegmentLen+1), strings.Repeat("a/", MaxSegments) + "a"}
	for _, k := range bad {
		if err := ValidateKey(k); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

// FuzzValidateKey checks that every accepted key is a clean relative path
// that stays under the root, whatever the input.
func FuzzValidateKey(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a/../../b", "京/1", "a\x00b", "/etc/passwd", "a\\..\\b", ".tmp-1", "a//b", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error %v does not wrap ErrInvalidKey", err)
			}
			return
		}
		if !utf8.ValidString(key) || len(key) > MaxKeyLen || key == "" {
			t.Fatalf("accepted %q", key)
		}
		if path.Clean(key) != key || path.IsAbs(key) || strings.HasPrefix(path.Clean(key), "..") {
			t.Fatalf("accepted non-canonical or escaping key %q", key)
		}
		if strings.ContainsAny(key, "\\\x00 :") {
			t.Fatalf("accepted %q with a forbidden character", key)
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg[0] == '.' {
				t.Fatalf("accepted %q with segment %q", key, seg)
			}
		}
	})
}

// FuzzParseFSHeader feeds arbitrary bytes to the on-disk header parser: it
// must never panic, and what it accepts must re-encode to a header that
// parses to the same values.
func FuzzParseFSHeader(f *testing.F) {
	good, _ := encodeFSHeader(Info{Size: 5, SHA256: sha([]byte("hello")), ContentType: "application/pdf"})
	f.Add(good)
	f.Add([]byte(fsMagic + `{"size":-1}`))
	f.Add(append([]byte(fsMagic+`{"size":1,"sha256":"00"}`), make([]byte, 900)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < fsHeaderSize {
			b = append(b, make([]byte, fsHeaderSize-len(b))...)
		}
		b = b[:fsHeaderSize]
		info, err := parseFSHeader(b)
		if err != nil {
			return
		}
		if info.Size < 0 || !validDigest(info.SHA256) {
			t.Fatalf("accepted bad header values %+v", info)
		}
		again, err := encodeFSHeader(info)
		if err != nil {
			// A header can parse yet not fit when re-encoded (e.g. escapes
			// that expand); that is a refusal, not a bug.
			return
		}
		info2, err := parseFSHeader(again)
		if err != nil || info2.Size != info.Size || info2.SHA256 != info.SHA256 || info2.ContentType != info.ContentType {
			t.Fatalf("re-encoded header %+v -> %+v, %v", info, info2, err)
		}
	})
}
