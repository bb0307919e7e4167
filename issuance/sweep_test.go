package issuance_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/objectstore"
)

// TestSweepRemovesOnlyUnreferencedOldObjects: what a crash leaves (files
// with no row, temporary files) goes; every file a row points at stays and
// reads back; young files and files outside the swept prefixes stay.
func TestSweepRemovesOnlyUnreferencedOldObjects(t *testing.T) {
	for name, b := range map[string]func(t *testing.T) backends{
		"files+sqlite":   func(*testing.T) backends { return backends{} },
		"minio+postgres": productionBackends,
	} {
		t.Run(name, func(t *testing.T) { sweepScenario(t, newEnv(t, b(t))) })
	}
}

func sweepScenario(t *testing.T, e *env) {
	ctx := context.Background()
	as := approvals(3, 41)
	e.intake(t, as)
	var rows [][2]string // key, digest
	for _, a := range as {
		res, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		c := res.Certificate
		rows = append(rows, [2]string{c.PDFKey, c.PDFSHA256}, [2]string{c.OFDKey, c.OFDSHA256})
	}
	orphans := []string{"certificates/2112025000001/v001-0123456789abcdef.pdf", "copies/2112025000001/C00-x.pdf"}
	for _, k := range append(orphans, "elsewhere/keep.txt") {
		if _, err := e.store.Put(ctx, k, bytes.NewReader([]byte("left by a crash")), 15, objectstore.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var tmp string
	if fs, ok := e.store.(*objectstore.Filesystem); ok {
		tmp = filepath.Join(fs.Root(), "certificates", ".tmp-crashed")
		os.WriteFile(tmp, make([]byte, 100), 0o640)
	}
	later := func() time.Time { return time.Now().Add(48 * time.Hour) }
	opt := issuance.SweepOptions{Now: later, Logger: slog.New(slog.DiscardHandler)}

	// Young: nothing goes.
	rep, err := issuance.Sweep(ctx, e.reg, e.store, issuance.SweepOptions{Logger: opt.Logger})
	if err != nil || rep.Removed != 0 || rep.Young != rep.Listed || rep.Listed != len(rows)+len(orphans) {
		t.Fatalf("sweep of young files: %+v, %v", rep, err)
	}
	// Dry run: counted, nothing goes.
	dry := opt
	dry.DryRun = true
	if rep, err = issuance.Sweep(ctx, e.reg, e.store, dry); err != nil || rep.Orphans != len(orphans) || rep.Removed != 0 {
		t.Fatalf("dry run: %+v, %v", rep, err)
	}
	for _, k := range orphans {
		if _, err := e.store.Stat(ctx, k); err != nil {
			t.Fatalf("dry run removed %s: %v", k, err)
		}
	}
	// The real sweep.
	if rep, err = issuance.Sweep(ctx, e.reg, e.store, opt); err != nil || rep.Removed != len(orphans) || rep.Referenced != len(rows) {
		t.Fatalf("sweep: %+v, %v", rep, err)
	}
	for _, k := range orphans {
		if _, err := e.store.Stat(ctx, k); !errors.Is(err, objectstore.ErrNotFound) {
			t.Fatalf("orphan %s kept: %v", k, err)
		}
	}
	if _, err := e.store.Stat(ctx, "elsewhere/keep.txt"); err != nil {
		t.Fatalf("object outside the swept prefixes removed: %v", err)
	}
	for _, r := range rows {
		e.read(t, r[0], r[1])
	}
	if tmp != "" {
		if _, err := os.Stat(tmp); !os.IsNotExist(err) || rep.TempFiles != 1 {
			t.Fatalf("temporary file left (%d removed): %v", rep.TempFiles, err)
		}
	}
}

// emptyKeys is a registry that refers to nothing, like a wrong --database.
type emptyKeys struct{}

func (emptyKeys) ObjectKeys(context.Context) (map[string]struct{}, error) { return nil, nil }

func TestSweepRefusesAnEmptyRegistryBesideOldObjects(t *testing.T) {
	ctx := context.Background()
	store, err := objectstore.NewFilesystem(objectstore.FSConfig{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	store.Put(ctx, "certificates/1/v001-a.pdf", bytes.NewReader([]byte("x")), 1, objectstore.PutOptions{})
	_, err = issuance.Sweep(ctx, emptyKeys{}, store, issuance.SweepOptions{Now: func() time.Time { return time.Now().Add(48 * time.Hour) }})
	if !errors.Is(err, issuance.ErrSweepRefused) {
		t.Fatalf("sweep with an empty registry: %v", err)
	}
	if _, err := store.Stat(ctx, "certificates/1/v001-a.pdf"); err != nil {
		t.Fatal("file removed")
	}
}
