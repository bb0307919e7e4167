package registration

import (
	"errors"
	"strings"
	"testing"
)

// The published identifiers listed in the domain documentation.
var publishedLicenceIDs = []string{
	"1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
	"1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
	"1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
	"1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
}

func TestParsePublishedLicenceIDs(t *testing.T) {
	for _, s := range publishedLicenceIDs {
		l, err := ParseLicenceID(s)
		if err != nil {
			t.Errorf("ParseLicenceID(%s): %v", s, err)
			continue
		}
		if got := l.String(); got != s {
			t.Errorf("String() = %s, want %s", got, s)
		}
	}
	l, _ := ParseLicenceID(publishedLicenceIDs[2])
	if l.TypeCode != "11100000000013338W009" || l.IssuerCode != "11330105002500287C" || l.Serial != "2025052201" || l.Version != 2 {
		t.Errorf("parts = %+v", l)
	}
}

func TestLicenceIDBuild(t *testing.T) {
	l := LicenceID{TypeCode: TypeCodeConstructor2, IssuerCode: "11220000013544541J", Serial: "2025000001", Version: 1}
	s := l.String()
	if !strings.HasPrefix(s, "1.2.156.3005.2.11100000000013338W001.11220000013544541J.2025000001.001.") || len(s) != len("1.2.156.3005.2.11100000000013338W001.11220000013544541J.2025000001.001.")+1 {
		t.Fatalf("String() = %q", s)
	}
	back, err := ParseLicenceID(s)
	if err != nil || back != l {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	next := l.NextVersion()
	if next.Version != 2 || !strings.Contains(next.String(), ".002.") {
		t.Errorf("NextVersion = %s", next)
	}
	if (LicenceID{TypeCode: "x"}).String() != "" {
		t.Error("invalid identifier has a string")
	}
}

func TestMod3736(t *testing.T) {
	// Every single-character change of a published identifier's body is detected.
	body := "11100000000013338W03211220000013544541J2430599001"
	want, _ := Mod3736(body)
	if want != 'F' {
		t.Fatalf("check = %c, want F", want)
	}
	for i := range body {
		for _, c := range licenceAlphabet {
			if byte(c) == body[i] {
				continue
			}
			mut := body[:i] + string(c) + body[i+1:]
			if got, _ := Mod3736(mut); got == want {
				t.Errorf("substitution at %d to %c not detected", i, c)
			}
		}
	}
	if _, err := Mod3736("abc"); err == nil {
		t.Error("lower case accepted")
	}
}

func TestParseLicenceIDErrors(t *testing.T) {
	good := publishedLicenceIDs[0]
	for _, tc := range []struct{ in, want string }{
		{strings.TrimSuffix(good, "F") + "G", `check character "G", want 'F'`},
		{strings.Replace(good, "2430599", "2430598", 1), "check character"},
		{strings.Replace(good, ".001.", ".01.", 1), "want 3 digits"},
		{strings.Replace(good, ".001.", ".000.", 1), "version 0 outside"},
		{strings.Replace(good, "1.2.156.3005.2.", "1.2.156.3005.1.", 1), "does not start with"},
		{strings.Replace(good, "11220000013544541J", "11220000013544541K", 1), "issuer code"},
		{strings.Replace(good, "2430599", "24305-9", 1), "serial character 6"},
		{strings.Replace(good, "2430599", "", 1), "serial has length 0"},
		{good + ".X", "6 parts"},
		{"1.2.156.3005.2." + strings.Repeat("1", 300), "limit"},
	} {
		_, err := ParseLicenceID(tc.in)
		if !errors.Is(err, ErrLicenceID) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseLicenceID(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseLicenceID(f *testing.F) {
	for _, s := range publishedLicenceIDs {
		f.Add(s)
	}
	f.Add("1.2.156.3005.2....")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseLicenceID(s)
		if err != nil {
			if !errors.Is(err, ErrLicenceID) {
				t.Fatalf("error %v does not wrap ErrLicenceID", err)
			}
			return
		}
		if l.String() != s {
			t.Fatalf("accepted %q but prints %q", s, l.String())
		}
	})
}

func TestCreditCodes(t *testing.T) {
	for _, s := range []string{
		"11220000013544541J", "11430000006122244L", "11330105002500287C", "11370800MB28559184", // issuers above
		"11100000000013338W", // the ministry
		"91110000100006485K",
	} {
		if err := ValidateCreditCode(s); err != nil {
			t.Errorf("ValidateCreditCode(%s): %v", s, err)
		}
	}
	division := "11A2000001354454" + "1"
	c, _ := CreditCodeCheckChar(division)
	for _, tc := range []struct{ in, want string }{
		{"11220000013544541K", `check character 'K', want 'J'`},
		{"1122000001354454J", "length 17"},
		{"11220000013544541j", `check character 'j', want 'J'`},
		{"I1220000013544541J", `character 1 is 'I'`},
		{"1122000001354454oJ", `character 17 is 'o'`},
		{division + string(c), "administrative division"},
		{"", "length 0"},
	} {
		err := ValidateCreditCode(tc.in)
		if !errors.Is(err, ErrCreditCode) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateCreditCode(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzValidateCreditCode(f *testing.F) {
	f.Add("11220000013544541J")
	f.Add("91110000100006485K")
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateCreditCode(s); err != nil {
			if !errors.Is(err, ErrCreditCode) {
				t.Fatalf("error %v does not wrap ErrCreditCode", err)
			}
			return
		}
		c, err := CreditCodeCheckChar(s[:17])
		if err != nil || c != s[17] {
			t.Fatalf("accepted %q with a wrong check character", s)
		}
	})
}

func TestCertStatus(t *testing.T) {
	want := map[CertStatus]string{"01": "有效", "02": "暂扣", "03": "撤销", "04": "注销", "05": "失效", "07": "吊销", "99": "其他"}
	if len(CertStatuses()) != len(want) {
		t.Fatalf("CertStatuses = %v", CertStatuses())
	}
	for _, s := range CertStatuses() {
		if s.Chinese() != want[s] || !s.Valid() {
			t.Errorf("%s: label %q", s, s.Chinese())
		}
		if p, err := ParseCertStatus(string(s)); err != nil || p != s {
			t.Errorf("ParseCertStatus(%s) = %v %v", s, p, err)
		}
		if p, err := ParseCertStatus(want[s]); err != nil || p != s {
			t.Errorf("ParseCertStatus(%s) = %v %v", want[s], p, err)
		}
		if s.Usable() != (s == CertValid) {
			t.Errorf("%s Usable", s)
		}
	}
	if CertStatus("06").Valid() || CertValid.String() != "01 有效" {
		t.Error("06 valid or bad String")
	}
	if _, err := ParseCertStatus("06"); err == nil || !strings.Contains(err.Error(), "07 吊销") {
		t.Errorf("ParseCertStatus(06) = %v", err)
	}
}

func TestRegNumbers(t *testing.T) {
	for _, s := range []string{"辽221141400178", "京2110101234567", "苏23210110234567", "兵265001234567"} {
		if err := ValidateRegNumber(s); err != nil {
			t.Errorf("ValidateRegNumber(%s): %v", s, err)
		}
	}
	for _, s := range []string{"", "辽121141400178", "辽22114140017", "辽2211414001781234", "台221141400178", "liao221141400178", "辽22114140017X", "\xff\xfe"} {
		if err := ValidateRegNumber(s); !errors.Is(err, ErrRegNumber) {
			t.Errorf("ValidateRegNumber(%q) = %v", s, err)
		}
	}
	v, err := NewRegNumberValidator(`^辽2[0-9]{11}$`)
	if err != nil {
		t.Fatal(err)
	}
	if v.Validate("辽221141400178") != nil || v.Validate("京221141400178") == nil || v.Pattern() != `^辽2[0-9]{11}$` {
		t.Error("custom pattern")
	}
	if _, err := NewRegNumberValidator(`^[`); err == nil {
		t.Error("bad pattern compiled")
	}
	if v, _ := NewRegNumberValidator(""); v.Pattern() != DefaultRegNumberPattern {
		t.Error("empty pattern is not the default")
	}
}

func FuzzValidateRegNumber(f *testing.F) {
	f.Add("辽221141400178")
	f.Fuzz(func(t *testing.T, s string) {
		if err := ValidateRegNumber(s); err != nil && !errors.Is(err, ErrRegNumber) {
			t.Fatalf("error %v does not wrap ErrRegNumber", err)
		}
	})
}
