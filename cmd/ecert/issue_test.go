package main

import (
	"context"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/app"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/objectstore"
)

// Ctrl-C during `ecert issue` stops taking cases, lets started ones finish,
// and a second run issues exactly the rest.
func TestIssueBatchInterruptAndResume(t *testing.T) {
	conf.DataDir = t.TempDir()
	conf.Database = ""
	a, err := openApp(context.Background(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const n = 40
	recs := sampledata.Generate(n, sampledata.Options{Seed: 61, Base: registration.Today(time.Now()).AddDays(-30)})
	var cases []string
	for _, r := range a.Registry.Intake(context.Background(), recs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		cases = append(cases, r.CaseID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan issueSummary)
	go func() { done <- issueBatch(ctx, a.Service, cases, 2, false, io.Discard) }()
	for {
		c, err := a.Registry.Counts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c["certificates"] >= 5 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	first := <-done
	if !first.Interrupted || len(first.Failed) != 0 || first.Issued == 0 || first.Issued >= n {
		t.Fatalf("interrupted run: %+v", first)
	}
	second := issueBatch(context.Background(), a.Service, cases, 2, false, io.Discard)
	if second.Interrupted || len(second.Failed) != 0 || second.Skipped != first.Issued || second.Issued != n-first.Issued {
		t.Fatalf("resumed run: %+v after %+v", second, first)
	}
	c, _ := a.Registry.Counts(context.Background())
	if c["certificates"] != n {
		t.Fatalf("%d certificates, want %d", c["certificates"], n)
	}
}

// --fs-sync-each-file reaches the filesystem store, and issuing works in
// that mode too.
func TestIssueWithFsyncEachFile(t *testing.T) {
	conf.DataDir = t.TempDir()
	conf.Database = ""
	conf.FSSyncEachFile = true
	t.Cleanup(func() { conf.FSSyncEachFile = false })
	a, err := openApp(context.Background(), conf)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	fs, ok := a.Store.(*objectstore.Filesystem)
	if !ok {
		t.Fatalf("store %T, want the filesystem store", a.Store)
	}
	if m := fs.SyncMode(); m != "fsync-each-file" {
		t.Fatalf("filesystem store in mode %q, want fsync-each-file", m)
	}
	recs := sampledata.Generate(6, sampledata.Options{Seed: 62, Base: registration.Today(time.Now()).AddDays(-30)})
	var cases []string
	for _, r := range a.Registry.Intake(context.Background(), recs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		cases = append(cases, r.CaseID)
	}
	s := issueBatch(context.Background(), a.Service, cases, 3, false, io.Discard)
	if s.Issued != len(cases) || len(s.Failed) != 0 {
		t.Fatalf("issue: %+v", s)
	}
}

// --workers/--concurrency 0 means the store's default: many certificates in
// flight per core on local files, fewer on MinIO; a negative value is refused.
func TestIssueWorkersDefaultPerStore(t *testing.T) {
	fs, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	cores := runtime.GOMAXPROCS(0)
	if n, err := issueWorkers("--workers", 0, &app.App{Store: fs}); err != nil || n != min(64*cores, 512) {
		t.Fatalf("filesystem default: %d, %v; want %d", n, err, min(64*cores, 512))
	}
	// Bounded on large machines.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(64))
	if n, err := issueWorkers("--workers", 0, &app.App{Store: fs}); err != nil || n != 512 {
		t.Fatalf("filesystem default on 64 cores: %d, %v; want 512", n, err)
	}
	runtime.GOMAXPROCS(cores)
	if n, err := issueWorkers("--workers", 0, &app.App{Store: nil}); err != nil || n != 4*cores {
		t.Fatalf("remote store default: %d, %v; want %d", n, err, 4*cores)
	}
	if n, err := issueWorkers("--workers", 5, &app.App{Store: fs}); err != nil || n != 5 {
		t.Fatalf("explicit: %d, %v", n, err)
	}
	if _, err := issueWorkers("--concurrency", -1, &app.App{Store: fs}); err == nil || !strings.Contains(err.Error(), "--concurrency") {
		t.Fatalf("negative: %v", err)
	}
}
