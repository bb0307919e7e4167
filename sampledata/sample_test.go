package sampledata

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/ecert/ecert/registration"
)

func TestGenerateIsValidDeterministicAndRare(t *testing.T) {
	a := Generate(2000, Options{Seed: 42})
	b := Generate(2000, Options{Seed: 42})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed gave different records")
	}
	ids := map[string]bool{}
	var names strings.Builder
	for i := range a {
		if err := a[i].Validate(); err != nil {
			t.Fatalf("record %d invalid: %v", i, err)
		}
		if ids[a[i].CaseID] {
			t.Fatalf("duplicate case id %s", a[i].CaseID)
		}
		ids[a[i].CaseID] = true
		names.WriteString(a[i].Person.Name)
	}
	for _, r := range rare {
		if !strings.Contains(names.String(), r) {
			t.Errorf("no name uses %s", r)
		}
	}
}

// The credit-code check character must agree with published codes.
func TestCreditCodeCheckCharacterOnPublishedCodes(t *testing.T) {
	for _, code := range []string{"11220000013544541J", "11430000006122244L", "11330105002500287C", "11370800MB28559184"} {
		sum := 0
		for i := 0; i < 17; i++ {
			sum += strings.IndexByte(creditChars, code[i]) * creditWeights[i]
		}
		if got := creditChars[(31-sum%31)%31]; got != code[17] {
			t.Errorf("%s: check %c, want %c", code, got, code[17])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100 {
		c := CreditCode(rng)
		if len(c) != 18 {
			t.Fatalf("credit code %q", c)
		}
	}
}

func TestIDNumberParses(t *testing.T) {
	id := IDNumber("210102", registration.NewDate(1980, 2, 29), 123)
	p, err := registration.ParseIDNumber(id)
	if err != nil {
		t.Fatal(err)
	}
	if p.BirthDate != registration.NewDate(1980, 2, 29) || p.Gender != registration.Male {
		t.Fatalf("parsed %+v", p)
	}
}
