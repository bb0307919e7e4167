package objectstore

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// runListContract: List yields exactly the objects under the prefix, with
// their sizes, and stops when the caller stops.
func runListContract(t *testing.T, be backend) {
	ctx := context.Background()
	s := be.new(t)
	l, ok := s.(Lister)
	if !ok {
		t.Fatalf("%T does not implement Lister", s)
	}
	want := map[string]int64{}
	for i, key := range []string{"certificates/1/v001-a.pdf", "certificates/1/v001-a.ofd", "certificates/22/v002-b.pdf", "copies/1/C1-x.pdf"} {
		mustPut(t, s, key, randBytes(uint64(i), 100+i), PutOptions{})
		if key[:4] == "cert" {
			want[key] = int64(100 + i)
		}
	}
	got := map[string]int64{}
	for info, err := range l.List(ctx, "certificates/") {
		if err != nil {
			t.Fatal(err)
		}
		if info.Modified.IsZero() || time.Since(info.Modified) > time.Hour {
			t.Fatalf("%s: modified %v", info.Key, info.Modified)
		}
		got[info.Key] = info.Size
	}
	if !maps.Equal(got, want) {
		t.Fatalf("List(certificates/) = %v, want %v", got, want)
	}
	n := 0
	for range l.List(ctx, "") {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("List did not stop after the caller stopped: %d", n)
	}
	for _, err := range l.List(ctx, "nothing-here/") {
		t.Fatalf("List of an empty prefix yielded: %v", err)
	}
}

func TestFilesystemListSkipsAndSweepsTemporaryFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := NewFilesystem(FSConfig{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustPut(t, s, "certificates/1/v001-a.pdf", []byte("%PDF"), PutOptions{})
	old, fresh := filepath.Join(root, "certificates", "1", ".tmp-old"), filepath.Join(root, "certificates", "1", ".tmp-fresh")
	os.WriteFile(old, make([]byte, 1000), 0o640)
	os.WriteFile(fresh, make([]byte, 10), 0o640)
	past := time.Now().Add(-48 * time.Hour)
	os.Chtimes(old, past, past)
	var keys []string
	for info, err := range s.List(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	if !slices.Equal(keys, []string{"certificates/1/v001-a.pdf"}) {
		t.Fatalf("List = %v", keys)
	}
	n, b, err := s.SweepTemp(ctx, time.Now().Add(-24*time.Hour))
	if err != nil || n != 1 || b != 1000 {
		t.Fatalf("SweepTemp = %d, %d, %v; want 1 file of 1000 bytes", n, b, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatal("stale temporary file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("recent temporary file (a Put in flight) removed")
	}
}
