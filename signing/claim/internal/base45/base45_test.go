package base45

import (
	"bytes"
	"errors"
	"testing"
)

// Examples of RFC 9285 §4.
func TestRFC9285Examples(t *testing.T) {
	tests := []struct{ plain, enc string }{
		{"AB", "BB8"},
		{"Hello!!", "%69 VD92EX0"},
		{"base-45", "UJCLQE7W581"},
		{"ietf!", "QED8WEX0"},
		{"", ""},
		{"\x00", "00"},
		{"\xff", "U5"},
		{"\xff\xff", "FGW"},
		{"\x00\x00", "000"},
	}
	for _, tt := range tests {
		if got := Encode([]byte(tt.plain)); got != tt.enc {
			t.Errorf("Encode(%q) = %q, want %q", tt.plain, got, tt.enc)
		}
		got, err := Decode(tt.enc)
		if err != nil || string(got) != tt.plain {
			t.Errorf("Decode(%q) = %q, %v; want %q", tt.enc, got, err, tt.plain)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	for _, s := range []string{
		"A",           // length 1 mod 3
		"BB8A",        // length 1 mod 3
		"GGW",         // 65536: one more than two bytes hold
		":::",         // 44+44*45+44*2025 > 65535
		"V5",          // 256 in the final pair
		"bb8",         // lower case is not in the alphabet
		"BB\x00",      // NUL
		"BB8\xe4\xb8", // UTF-8 bytes
	} {
		if _, err := Decode(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("Decode(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

// FuzzDecode: never panics, accepted input re-encodes to itself (the
// encoding is canonical), and output is at most 2/3 of the input.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"BB8", "%69 VD92EX0", "GGW", "U5", "A"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Decode(s)
		if err != nil {
			return
		}
		if len(b) > len(s)*2/3 {
			t.Fatalf("%d bytes from %d characters", len(b), len(s))
		}
		if again := Encode(b); again != s {
			t.Fatalf("Decode(%q) re-encodes as %q", s, again)
		}
	})
}

// FuzzRoundTrip: Decode(Encode(b)) == b.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("ecert"))
	f.Add([]byte{0xff, 0xff, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := Encode(b)
		if len(s) != EncodedLen(len(b)) {
			t.Fatalf("length %d, EncodedLen says %d", len(s), EncodedLen(len(b)))
		}
		got, err := Decode(s)
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("Decode(Encode(%x)) = %x, %v", b, got, err)
		}
	})
}
