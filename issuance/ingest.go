package issuance

import (
	"context"
	"fmt"
	"io"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/storage/registry"
)

// IntakeRegistry is the part of the registry intake writes to.
type IntakeRegistry interface {
	Intake(ctx context.Context, approvals []intake.Approval) []registry.IntakeResult
}

// IngestOptions tune Ingest.
type IngestOptions struct {
	// Batch is how many good lines are recorded in one transaction (default
	// 1: each line is decided as soon as it is read, as a streaming client
	// expects; bulk imports use hundreds).
	Batch int
	// Intake decodes lines (its clock is "today" for the date rules).
	Intake intake.Options
	// Enqueue, when set, is called for each case recorded new, in order,
	// after its line is decided; an error is reported on the line.
	Enqueue func(ctx context.Context, caseID string) error
}

// IngestedLine is what happened to one input line.
type IngestedLine struct {
	No      int // 1-based line number
	CaseID  string
	Outcome registry.Outcome // 0 for a line that did not decode
	Err     error            // why the line was not recorded; ID numbers masked
	Queued  bool
	Bytes   int // input bytes of the line, for progress
}

// Rejected reports whether the line was not recorded.
func (l IngestedLine) Rejected() bool {
	return l.Outcome != registry.Inserted && l.Outcome != registry.Duplicate
}

// Ingest reads approvals as NDJSON from r and records them idempotently by
// case id, calling emit for every line in order as soon as it is decided: a
// bad line is reported and the next one read, so good lines land whatever
// their neighbours hold. It is intake for `ecert import`, `ecert issue
// --from` and the portal's POST /approvals alike. It stops when r is
// exhausted, when emit returns an error (the reader went away: what is
// recorded stays), or when ctx ends.
func Ingest(ctx context.Context, reg IntakeRegistry, r io.Reader, opt IngestOptions, emit func(IngestedLine) error) error {
	if opt.Batch <= 0 {
		opt.Batch = 1
	}
	var pending []intake.Approval
	var lines []IngestedLine
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		res := reg.Intake(ctx, pending)
		for i, l := range lines {
			l.CaseID, l.Outcome, l.Err = res[i].CaseID, res[i].Outcome, res[i].Err
			if l.Err != nil {
				l.Err = maskedError{l.Err}
			}
			if l.Outcome == registry.Inserted && opt.Enqueue != nil {
				if err := opt.Enqueue(ctx, l.CaseID); err != nil {
					l.Err = maskedError{fmt.Errorf("recorded, but not queued for issuance: %w", err)}
				} else {
					l.Queued = true
				}
			}
			if err := emit(l); err != nil {
				return err
			}
		}
		pending, lines = pending[:0], lines[:0]
		return ctx.Err()
	}
	sc := intake.NewScannerWith(r, opt.Intake)
	for sc.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := sc.Line()
		if l.Err != nil {
			if err := flush(); err != nil { // keep the lines in order
				return err
			}
			if err := emit(IngestedLine{No: l.No, Err: l.Err, Bytes: l.Bytes}); err != nil {
				return err
			}
			continue
		}
		pending = append(pending, l.Approval)
		lines = append(lines, IngestedLine{No: l.No, Bytes: l.Bytes})
		if len(pending) >= opt.Batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read approvals: %w", err)
	}
	return nil
}

// maskedError shows its error with ID numbers masked: the registry's
// messages name case ids, and a case id may have been one before intake
// refused such ids.
type maskedError struct{ err error }

func (e maskedError) Error() string { return intake.MaskIDNumbers(e.err.Error()) }
func (e maskedError) Unwrap() error { return e.err }
