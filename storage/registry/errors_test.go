package registry

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A writer deletes what it wrote only after a definite "not recorded"; a
// retry is due only for a backend that is away for a moment.
func TestErrorClasses(t *testing.T) {
	pg := func(code string) error {
		return fmt.Errorf("registry: record certificate: %w", &pgconn.PgError{Code: code})
	}
	tests := []struct {
		name                string
		err                 error
		rowError, transient bool
	}{
		{"conflict", fmt.Errorf("certificate 1 v1: %w", ErrConflict), true, false},
		{"unique violation", pg("23505"), true, false},
		{"foreign key violation", pg("23503"), true, false},
		{"value too long", pg("22001"), true, false},
		{"sqlite constraint", errors.New("constraint failed: FOREIGN KEY constraint failed (787)"), true, false},
		{"cannot connect now", pg("57P03"), false, true},
		{"admin shutdown", pg("57P01"), false, true},
		{"serialization failure", pg("40001"), false, true},
		{"deadlock", pg("40P01"), false, true},
		{"too many connections", pg("53300"), false, true},
		{"connection failure", pg("08006"), false, true},
		{"connection cut mid-answer", fmt.Errorf("registry: certificate: %w", io.ErrUnexpectedEOF), false, true},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), false, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), false, true},
		{"bad connection", driver.ErrBadConn, false, true},
		{"sqlite busy", errors.New("database is locked (5) (SQLITE_BUSY)"), false, true},
		{"syntax error", pg("42601"), false, false},
		{"cancelled", context.Canceled, false, false},
		{"other", errors.New("disk on fire"), false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsRowError(tc.err); got != tc.rowError {
				t.Errorf("IsRowError(%v) = %v, want %v", tc.err, got, tc.rowError)
			}
			if got := IsTransient(tc.err); got != tc.transient {
				t.Errorf("IsTransient(%v) = %v, want %v", tc.err, got, tc.transient)
			}
		})
	}
}
