package registry

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ecert/ecert/registration"
)

// nullIfEmpty records "" as NULL: a certificate without a verification code.
func nullIfEmpty(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// noCode stands in for the stored code when there is none (an unknown
// licence identifier, a row without a code), so that a miss compares as
// much as a hit. It is not a valid code (it holds 0 and 1) and never matches.
const noCode = "0000000001"

// CertificateByLicenceIDAndCode returns the certificate version with a
// licence identifier only when code is its verification code, exactly as
// printed (canonical form, registration.NormalizeVerifyCode). An unknown
// identifier, a wrong or empty code and a version without a code all give
// ErrNotFound alike, after the same query and the same constant-time
// comparison, so that the answer tells nothing about which it was.
func (r *Registry) CertificateByLicenceIDAndCode(ctx context.Context, licenceID, code string) (Certificate, error) {
	c, err := r.oneCertificate(ctx, `c.licence_id = ?`, licenceID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Certificate{}, err
	}
	stored := c.VerifyCode
	if err != nil || stored == "" {
		stored = noCode
	}
	if !codesEqual(stored, code) || stored == noCode {
		return Certificate{}, ErrNotFound
	}
	return c, nil
}

// codesEqual compares two codes in constant time; hashing them first makes
// the time independent of their lengths too.
func codesEqual(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}

// backfillBatch bounds the rows given codes per transaction.
const backfillBatch = 500

// backfillVerifyCodes gives every certificate version without a
// verification code (issued before migration 00003, or recorded by an older
// binary since) a fresh one, and reports how many it gave. Their files print
// no code, but their later usage copies print this one. It runs after the
// migrations under the migration lock; the partial index
// certificates_without_verify_code makes it one index probe when every row
// has a code.
func (r *Registry) backfillVerifyCodes(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.backfillVerifyCodeBatch(ctx)
		if err != nil {
			return total, fmt.Errorf("registry: backfill verification codes: %w", err)
		}
		total += n
		if n < backfillBatch {
			return total, nil
		}
	}
}

func (r *Registry) backfillVerifyCodeBatch(ctx context.Context) (int, error) {
	n := 0
	err := r.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, r.q(`SELECT certificate_no, version FROM certificates
			WHERE verify_code IS NULL ORDER BY certificate_no, version LIMIT ?`), backfillBatch)
		if err != nil {
			return err
		}
		type key struct {
			no      string
			version int
		}
		var keys []key
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.no, &k.version); err != nil {
				rows.Close()
				return err
			}
			keys = append(keys, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, k := range keys {
			code, err := registration.NewVerifyCode()
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, r.q(`UPDATE certificates SET verify_code = ?
				WHERE certificate_no = ? AND version = ? AND verify_code IS NULL`), code, k.no, k.version); err != nil {
				return err
			}
		}
		n = len(keys)
		return nil
	})
	return n, err
}
