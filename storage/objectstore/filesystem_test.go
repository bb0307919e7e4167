package objectstore

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTestFS(t *testing.T, cfg FSConfig) *Filesystem {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	s, err := NewFilesystem(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var fsBackend = backend{
	new: func(t *testing.T) Store { return newTestFS(t, FSConfig{}) },
	corrupt: func(t *testing.T, s Store, key string) {
		p := filepath.Join(s.(*Filesystem).Root(), filepath.FromSlash(key))
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01 // one bit in the content, header untouched
		if err := os.WriteFile(p, b, 0o640); err != nil {
			t.Fatal(err)
		}
	},
}

func TestFilesystemContract(t *testing.T) { runContract(t, fsBackend) }

func TestFilesystemLayoutAndTempFiles(t *testing.T) {
	s := newTestFS(t, FSConfig{})
	ctx := context.Background()
	mustPut(t, s, "a/b/c.pdf", []byte("hello"), PutOptions{})
	// A failed write leaves no temporary file behind.
	s.Put(ctx, "a/b/d.pdf", strings.NewReader("abc"), 99, PutOptions{})
	entries, err := os.ReadDir(filepath.Join(s.Root(), "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "c.pdf" {
		t.Fatalf("directory holds %v, want only c.pdf", entries)
	}
	raw, _ := os.ReadFile(filepath.Join(s.Root(), "a", "b", "c.pdf"))
	if len(raw) != fsHeaderSize+5 || !bytes.HasPrefix(raw, []byte(fsMagic)) || string(raw[fsHeaderSize:]) != "hello" {
		t.Fatalf("file layout: %q", raw)
	}
}

func TestFilesystemDetectsTruncationAndBadHeader(t *testing.T) {
	s := newTestFS(t, FSConfig{})
	ctx := context.Background()
	mustPut(t, s, "t", []byte("0123456789"), PutOptions{})
	p := filepath.Join(s.Root(), "t")
	if err := os.Truncate(p, fsHeaderSize+5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "t"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated: %v", err)
	}
	os.WriteFile(p, []byte("not an object"), 0o640)
	if _, _, err := s.Get(ctx, "t"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage file: %v", err)
	}
}

func TestFilesystemSymlinkCannotEscape(t *testing.T) {
	outside := t.TempDir()
	s := newTestFS(t, FSConfig{})
	if err := os.Symlink(outside, filepath.Join(s.Root(), "evil")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Put(context.Background(), "evil/x", strings.NewReader("x"), 1, PutOptions{})
	if err == nil {
		t.Fatal("write through a symlink out of the root succeeded")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("files written outside the root: %v", entries)
	}
}

func TestFilesystemLimits(t *testing.T) {
	s := newTestFS(t, FSConfig{MaxObjectSize: 100})
	ctx := context.Background()
	if _, err := s.Put(ctx, "big", bytes.NewReader(make([]byte, 101)), 101, PutOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("declared too large: %v", err)
	}
	if _, err := s.Put(ctx, "big", bytes.NewReader(make([]byte, 101)), -1, PutOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("undeclared too large: %v", err)
	}
	if _, err := s.Put(ctx, "ok", bytes.NewReader(make([]byte, 100)), -1, PutOptions{}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	if _, err := s.Put(ctx, "ct", strings.NewReader("x"), 1, PutOptions{ContentType: "text/plain\r\nX: y"}); err == nil {
		t.Error("content type with CRLF accepted")
	}
	if _, err := NewFilesystem(FSConfig{Root: t.TempDir(), MaxObjectSize: -1}); err == nil {
		t.Error("negative MaxObjectSize accepted")
	}
}

func TestFilesystemReadyFailsWhenRootGone(t *testing.T) {
	dir := t.TempDir()
	s := newTestFS(t, FSConfig{Root: filepath.Join(dir, "objects")})
	if err := s.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "objects")); err != nil {
		t.Fatal(err)
	}
	if err := s.Ready(context.Background()); err == nil {
		t.Fatal("Ready with the root directory removed")
	}
}

// The contract holds with per-file fsyncs too (the mode used where syncfs
// is missing, and on request).
func TestFilesystemContractSyncEachFile(t *testing.T) {
	runContract(t, backend{
		new:     func(t *testing.T) Store { return newTestFS(t, FSConfig{SyncEachFile: true}) },
		corrupt: fsBackend.corrupt,
	})
}
