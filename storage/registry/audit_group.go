package registry

import (
	"context"
	"database/sql"
	"fmt"
)

const auditInsert = `INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`

// auditRequest is one Audit call waiting for a group commit.
type auditRequest struct {
	e    AuditEntry
	done chan error
}

// auditGrouped writes e on SQLite, whose writes are serialised: the caller
// that gets the write lock commits every entry queued so far in one
// transaction, so a burst of audited requests (re-stamps, downloads) costs
// one commit instead of one each. It returns once e is committed.
func (r *Registry) auditGrouped(ctx context.Context, e AuditEntry) error {
	req := &auditRequest{e: e, done: make(chan error, 1)}
	r.amu.Lock()
	r.apending = append(r.apending, req)
	r.amu.Unlock()
	select {
	case err := <-req.done:
		return err
	case r.wsem <- struct{}{}:
	}
	defer func() { <-r.wsem }()
	r.amu.Lock()
	batch := r.apending
	r.apending = nil
	r.amu.Unlock()
	if len(batch) == 0 { // a leader before us took ours along
		return <-req.done
	}
	ctx = context.WithoutCancel(ctx) // the batch is not only ours
	// Audit entries change nothing in force: no new generation.
	err := r.txCommit(ctx, func(tx *sql.Tx) error {
		for _, q := range batch {
			if _, err := tx.ExecContext(ctx, r.q(auditInsert), q.e.At, q.e.Actor, q.e.Action, q.e.Subject, q.e.Detail); err != nil {
				return fmt.Errorf("registry: audit: %w", err)
			}
		}
		return nil
	})
	for _, q := range batch {
		q.done <- err
	}
	return <-req.done
}
