package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

func TestImportReportsBadLinesAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	reg, err := registry.Open(ctx, filepath.Join(t.TempDir(), "r.db"), registry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	recs := sampledata.Generate(3000, sampledata.Options{Seed: 8})
	for i, a := range recs {
		switch i {
		case 1000:
			in.WriteString("{not json\n") // line 1001
		case 2000:
			in.WriteString(`{"case_id":"X-1","business_type":"renewal"}` + "\n") // line 2002
		}
		enc.Encode(a)
	}
	var stderr, rejects bytes.Buffer
	run := func() importSummary {
		s, err := runImport(ctx, reg, bytes.NewReader(in.Bytes()), int64(in.Len()), importOptions{batch: 250, stderr: &stderr, rejects: &rejects})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := run()
	if s.Lines != 3002 || s.Inserted != 3000 || s.Rejected != 2 || s.Duplicate != 0 {
		t.Fatalf("first import: %+v", s)
	}
	for _, want := range []string{"line 1001: malformed JSON", "line 2002: ", "approved_on: missing"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, stderr.String())
		}
	}
	var rj rejectedLine
	if err := json.NewDecoder(&rejects).Decode(&rj); err != nil || rj.Line != 1001 {
		t.Fatalf("rejects file: %+v %v", rj, err)
	}
	before, _ := reg.Counts(ctx)
	s = run()
	if s.Inserted != 0 || s.Duplicate != 3000 || s.Rejected != 2 {
		t.Fatalf("second import: %+v", s)
	}
	after, _ := reg.Counts(ctx)
	for k, v := range before {
		if after[k] != v {
			t.Errorf("re-run changed %s: %d → %d", k, v, after[k])
		}
	}
}

// BenchmarkImport is `ecert import` minus the terminal: NDJSON decoding,
// validation and batched intake into SQLite.
func BenchmarkImport(b *testing.B) {
	ctx := context.Background()
	reg, err := registry.Open(ctx, filepath.Join(b.TempDir(), "r.db"), registry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Close()
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, a := range sampledata.Generate(b.N, sampledata.Options{Seed: 9}) {
		enc.Encode(a)
	}
	b.ResetTimer()
	s, err := runImport(ctx, reg, bytes.NewReader(in.Bytes()), int64(in.Len()), importOptions{batch: 500, stderr: io.Discard, rejects: io.Discard})
	if err != nil || s.Inserted != b.N {
		b.Fatalf("%+v %v", s, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
