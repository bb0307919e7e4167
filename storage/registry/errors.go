package registry

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// isUniqueViolation reports whether err is a unique or primary-key violation on either engine.
func isUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	// modernc.org/sqlite: "constraint failed: UNIQUE constraint failed: …" (SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY).
	msg := err.Error()
	return strings.Contains(msg, "UNIQUE constraint failed") || strings.Contains(msg, "PRIMARY KEY")
}

// IsRowError reports whether err is the database refusing a row itself: a
// unique, foreign-key, not-null or check violation, or a value the column
// cannot hold (ErrConflict included). Such a statement changed nothing, so a
// writer may treat the row as definitely not recorded. Any other error (a
// dropped connection, a server shutting down) leaves that open.
func IsRowError(err error) bool {
	if errors.Is(err, ErrConflict) {
		return true
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		class := pg.Code[:min(2, len(pg.Code))]
		return class == "23" || class == "22" // integrity constraint violation, data exception
	}
	return strings.Contains(err.Error(), "constraint failed") // modernc.org/sqlite SQLITE_CONSTRAINT_*
}

// IsTransient reports whether err is the database being unavailable for a
// moment, so that the same work may succeed when retried: a connection that
// could not be made or broke, a server starting up or shutting down
// (SQLSTATE 57P01–57P03), too many connections (53300), a serialization
// failure or deadlock (40001, 40P01), and SQLite's busy lock.
func IsTransient(err error) bool {
	if err == nil || IsRowError(err) {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "57P01", "57P02", "57P03", "53300", "40001", "40P01":
			return true
		}
		return strings.HasPrefix(pg.Code, "08") // connection exception
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne), pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	msg := err.Error()
	for _, s := range []string{"conn closed", "connection reset", "broken pipe", "unexpected EOF",
		"database is locked", "SQLITE_BUSY"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isDivisionByZero reports PostgreSQL's division_by_zero, which
// sqlRecordPostgres raises on purpose when its status entry is not reserved.
func isDivisionByZero(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "22012"
}
