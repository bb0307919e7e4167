package registry

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/ecert/ecert/registration"
)

// RevokeCertificate marks the current version of certNo revoked (07 吊销)
// with reason, by actor, and writes the audit entry in the same
// transaction. A version not in force (superseded, cancelled, revoked) is
// left as it is and returned with ErrConflict; an unknown number is
// ErrNotFound.
func (r *Registry) RevokeCertificate(ctx context.Context, certNo, reason, actor string) (Certificate, error) {
	cur, err := r.CurrentCertificate(ctx, certNo)
	if err != nil {
		return cur, err
	}
	if cur.Status != registration.CertValid {
		return cur, fmt.Errorf("registry: certificate %s v%d is %s, not in force: %w", certNo, cur.Version, cur.Status, ErrConflict)
	}
	var n int64
	err = r.tx(ctx, func(tx *sql.Tx) error {
		now := r.now().UTC()
		res, err := tx.ExecContext(ctx, r.q(`UPDATE certificates SET status = ?, status_changed_at = ?, status_reason = ?
			WHERE certificate_no = ? AND version = ? AND status = ?`),
			string(registration.CertRevoked), now, reason, certNo, cur.Version, string(registration.CertValid))
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		// The version and its usage copies are INVALID in the status list
		// from the same commit.
		if err := r.setEntriesIn(ctx, tx, EntryInvalid, entriesOfVersion, certNo, cur.Version); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, r.q(`INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)`),
			now, actor, "certificate.revoke", certNo, fmt.Sprintf("v%d %s %s", cur.Version, registration.CertRevoked, reason))
		return err
	})
	if err != nil {
		return cur, fmt.Errorf("registry: revoke %s: %w", certNo, err)
	}
	if n == 0 {
		return cur, fmt.Errorf("registry: certificate %s changed while being revoked: %w", certNo, ErrConflict)
	}
	return r.CertificateVersion(ctx, certNo, cur.Version)
}
