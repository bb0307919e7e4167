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

func TestCreditCodesAreValid(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if c := CreditCode(rng); registration.ValidateCreditCode(c) != nil {
			t.Fatalf("credit code %q: %v", c, registration.ValidateCreditCode(c))
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
