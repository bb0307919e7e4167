package issuance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/registry"
)

// Ingest decides every line in order: good lines land around bad ones,
// only new cases are queued, and a reader that goes away stops it with
// what was recorded kept.
func TestIngestDecidesEachLineInOrder(t *testing.T) {
	for _, batch := range []int{1, 3, 500} {
		e := newEnv(t, backends{})
		ctx := context.Background()
		as := approvals(4, 61)
		var in bytes.Buffer
		for i, a := range as {
			b, _ := json.Marshal(a)
			in.Write(b)
			in.WriteString("\n")
			if i == 1 {
				in.WriteString("{not json}\n")
			}
		}
		b, _ := json.Marshal(as[0]) // the same case again: a duplicate
		in.Write(b)
		var got []issuance.IngestedLine
		var queued []string
		opt := issuance.IngestOptions{Batch: batch, Enqueue: func(_ context.Context, id string) error {
			queued = append(queued, id)
			return nil
		}}
		err := issuance.Ingest(ctx, e.reg, &in, opt, func(l issuance.IngestedLine) error {
			got = append(got, l)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []registry.Outcome{registry.Inserted, registry.Inserted, 0, registry.Inserted, registry.Inserted, registry.Duplicate}
		if len(got) != len(want) {
			t.Fatalf("batch %d: %d lines emitted, want %d", batch, len(got), len(want))
		}
		for i, l := range got {
			if l.No != i+1 || l.Outcome != want[i] || l.Rejected() != (want[i] == 0) {
				t.Fatalf("batch %d, line %d: %+v, want outcome %v", batch, i+1, l, want[i])
			}
		}
		if !strings.Contains(got[2].Err.Error(), "malformed JSON") || len(queued) != 4 || queued[0] != as[0].CaseID {
			t.Fatalf("batch %d: bad line %v, queued %v", batch, got[2].Err, queued)
		}
	}
}

func TestIngestStopsWhenTheReaderGoesAway(t *testing.T) {
	e := newEnv(t, backends{})
	var in bytes.Buffer
	for _, a := range approvals(5, 62) {
		b, _ := json.Marshal(a)
		in.Write(append(b, '\n'))
	}
	gone := errors.New("client went away")
	n := 0
	err := issuance.Ingest(context.Background(), e.reg, &in, issuance.IngestOptions{}, func(issuance.IngestedLine) error {
		if n++; n == 2 {
			return gone
		}
		return nil
	})
	if !errors.Is(err, gone) {
		t.Fatalf("Ingest: %v", err)
	}
	c, _ := e.reg.Counts(context.Background())
	if c["cases"] != 2 {
		t.Fatalf("%d cases recorded, want the 2 decided before the reader went away", c["cases"])
	}
}
