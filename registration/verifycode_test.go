package registration

import (
	"bytes"
	"strings"
	"testing"
)

func TestNewVerifyCode(t *testing.T) {
	seen := map[string]bool{}
	counts := map[byte]int{}
	for i := 0; i < 2000; i++ {
		c, err := NewVerifyCode()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidVerifyCode(c) {
			t.Fatalf("NewVerifyCode() = %q, not a valid code", c)
		}
		if seen[c] {
			t.Fatalf("code %q drawn twice", c)
		}
		seen[c] = true
		for j := 0; j < len(c); j++ {
			counts[c[j]]++
		}
	}
	if len(counts) != len(VerifyCodeAlphabet) {
		t.Errorf("20000 characters use %d symbols, want all %d", len(counts), len(VerifyCodeAlphabet))
	}
	for _, bad := range "01ILO" {
		if strings.ContainsRune(VerifyCodeAlphabet, bad) {
			t.Errorf("alphabet contains ambiguous %q", bad)
		}
	}
}

func TestNewVerifyCodeRejectsBiasedBytes(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"low bytes map in order", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0, 0, 0}, "23456789AB"},
		{"30 and 247 are the last symbol", []byte{30, 247, 31, 62, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, "ZZ22222222"},
		{"248 and above are skipped", append([]byte{248, 255, 250, 9}, make([]byte, 24)...), "B222222222"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newVerifyCode(bytes.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := newVerifyCode(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Error("short random source: no error")
	}
}

func TestNormalizeVerifyCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"K7QM9XR2HT", "K7QM9XR2HT"},
		{" k7qm9-xr2ht ", "K7QM9XR2HT"},
		{"K7QM9 XR2HT", "K7QM9XR2HT"},
		{"K7QM9\u3000XR2HT", "K7QM9XR2HT"},
		{"", ""},
		{"K7QM9XR2H", ""},   // too short
		{"K7QM9XR2HTT", ""}, // too long
		{"K7QM9XR2H0", ""},  // 0 is not in the alphabet
		{"K7QM9XR2HO", ""},  // nor O
		{"K7QM9XR2HI", ""},
		{"K7QM9XR2H１", ""}, // full-width digit
		{strings.Repeat("-", 100) + "K7QM9XR2HT", ""},
	}
	for _, tt := range tests {
		if got := NormalizeVerifyCode(tt.in); got != tt.want {
			t.Errorf("NormalizeVerifyCode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPublicMasks(t *testing.T) {
	ids := []struct{ in, want string }{
		{"21010219850716093X", "2101**********093X"},
		{"110105199002280047", "1101**********0047"},
		{"12345678", "********"},
		{"", ""},
	}
	for _, tt := range ids {
		if got := MaskIDPublic(tt.in); got != tt.want {
			t.Errorf("MaskIDPublic(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	names := []struct{ in, want string }{
		{"张三丰", "张*丰"},
		{"张三", "张*"},
		{"张", "*"},
		{"", ""},
		{"欧阳𠮷堃", "欧**堃"},
		{"阿卜杜热合曼·买买提", "阿********提"},
	}
	for _, tt := range names {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
