package issuance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ecert/ecert/storage/objectstore"
)

// DefaultSweepGrace is how old an unreferenced object must be before the
// sweep removes it: far longer than any issue or re-stamp takes between
// writing its files and recording the row that points at them.
const DefaultSweepGrace = 24 * time.Hour

// sweptPrefixes are the only places the sweep looks: the files of
// certificates and of usage copies. Nothing else in a bucket is touched.
var sweptPrefixes = []string{"certificates/", "copies/"}

// SweepOptions tune Sweep.
type SweepOptions struct {
	// Grace: objects and temporary files younger than this are left alone
	// (default DefaultSweepGrace when zero). Files of an issue in flight are
	// young, so a short grace is safe only while nothing is being issued.
	Grace time.Duration
	// NoGrace makes a zero Grace mean zero (for a store no process writes to).
	NoGrace bool
	// DryRun reports what would be removed and removes nothing.
	DryRun bool
	// Now is the clock (default time.Now); Logger gets a summary line
	// (default slog.Default()).
	Now    func() time.Time
	Logger *slog.Logger
}

// ObjectKeyer is the part of the registry Sweep reads.
type ObjectKeyer interface {
	ObjectKeys(ctx context.Context) (map[string]struct{}, error)
}

// SweepReport says what Sweep found and did.
type SweepReport struct {
	Listed, Young, Referenced int // objects seen; of them, younger than the grace (left alone); older and referenced by a row
	Orphans                   int // unreferenced and older than the grace
	Removed                   int
	RemovedBytes              int64
	TempFiles                 int // stale temporary files of killed writes removed (filesystem store)
	TempBytes                 int64
}

// ErrSweepRefused is returned when the registry holds no rows while the store
// holds old objects: most likely the wrong database, and removing every
// object would destroy issued certificates.
var ErrSweepRefused = errors.New("issuance: sweep refused")

// Sweep removes what crashes leave behind: objects under certificates/ and
// copies/ that no registry row refers to and that are older than the
// grace, and (on the filesystem store) stale temporary files. A crash
// between storing a certificate's files and recording its row leaves such
// objects; they are never served, because only rows lead to files.
//
// The store is listed before the registry is read, so a row recorded
// while the sweep runs protects its files.
func Sweep(ctx context.Context, reg ObjectKeyer, store objectstore.Store, opt SweepOptions) (SweepReport, error) {
	var rep SweepReport
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	grace := opt.Grace
	if grace == 0 && !opt.NoGrace {
		grace = DefaultSweepGrace
	}
	if grace < 0 {
		return rep, fmt.Errorf("issuance: sweep grace %v is negative", grace)
	}
	cutoff := opt.Now().Add(-grace)
	candidates, err := oldObjects(ctx, store, cutoff, &rep)
	if err != nil {
		return rep, err
	}
	referenced, err := reg.ObjectKeys(ctx)
	if err != nil {
		return rep, err
	}
	if len(referenced) == 0 && len(candidates) > 0 {
		return rep, fmt.Errorf("%w: the registry refers to no object but the store holds %d: is the database setting right?", ErrSweepRefused, len(candidates))
	}
	for _, o := range candidates {
		if _, ok := referenced[o.Key]; ok {
			rep.Referenced++
			continue
		}
		rep.Orphans++
		if opt.DryRun {
			continue
		}
		if err := store.Delete(ctx, o.Key); err != nil {
			return rep, fmt.Errorf("issuance: sweep: %w", err)
		}
		rep.Removed++
		rep.RemovedBytes += o.Size
	}
	if fs, ok := store.(*objectstore.Filesystem); ok && !opt.DryRun {
		if rep.TempFiles, rep.TempBytes, err = fs.SweepTemp(ctx, cutoff); err != nil {
			return rep, err
		}
	}
	opt.Logger.Info("sweep done", "listed", rep.Listed, "orphans", rep.Orphans, "removed", rep.Removed,
		"temp_files", rep.TempFiles, "dry_run", opt.DryRun)
	return rep, nil
}

// oldObjects lists the swept prefixes and returns the objects last written
// before cutoff; it counts the rest as young or referenced later.
func oldObjects(ctx context.Context, store objectstore.Store, cutoff time.Time, rep *SweepReport) ([]objectstore.Info, error) {
	l, ok := store.(objectstore.Lister)
	if !ok {
		return nil, fmt.Errorf("issuance: sweep: the object store %T cannot list its objects", store)
	}
	var old []objectstore.Info
	for _, prefix := range sweptPrefixes {
		for o, err := range l.List(ctx, prefix) {
			if err != nil {
				return nil, fmt.Errorf("issuance: sweep: %w", err)
			}
			if !strings.HasPrefix(o.Key, prefix) {
				continue
			}
			rep.Listed++
			if !o.Modified.Before(cutoff) {
				rep.Young++
				continue
			}
			old = append(old, o)
		}
	}
	return old, nil
}
