// Package registry is the system of record for persons, qualifications,
// registrations, cases, certificates, usage copies and the audit log.
//
// One code path serves two SQL engines through database/sql: embedded SQLite
// (modernc.org/sqlite, pure Go, the default) and PostgreSQL (pgx) for
// production. Queries are written with `?` placeholders and rebound for
// PostgreSQL; dates are stored as ISO text (YYYY-MM-DD) in both engines so
// that comparisons and ordering behave the same. The schema is versioned with
// goose migrations embedded in the binary.
//
// The registry never logs or returns full ID numbers in errors.
package registry

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver "pgx"
	"github.com/pressly/goose/v3"

	"github.com/ecert/ecert/internal/flock"
	_ "modernc.org/sqlite" // SQLite driver "sqlite", pure Go
)

//go:embed migrations
var migrations embed.FS

// Dialect names the SQL engine behind a Registry.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Registry is the SQL system of record. It is safe for concurrent use.
type Registry struct {
	db      *sql.DB
	dialect Dialect
	now     func() time.Time
	// path is the SQLite database file ("" for PostgreSQL and in-memory).
	path string
	// wsem (capacity 1) serialises this process's SQLite write
	// transactions: SQLite has one writer, and a second BEGIN IMMEDIATE
	// would otherwise wait in SQLite's busy handler, which sleeps in steps
	// of milliseconds. Other processes still meet the busy timeout. A
	// channel rather than a mutex, so that a caller of RecordCertificate can
	// wait for the lock or for another caller to commit its row, whichever
	// comes first. Unused for PostgreSQL.
	wsem chan struct{}
	// pending holds RecordCertificate requests waiting for the next group
	// commit (SQLite only); pmu guards it.
	pmu     sync.Mutex
	pending []*recordRequest
	// apending holds Audit entries waiting for the next group commit
	// (SQLite only); amu guards it.
	amu      sync.Mutex
	apending []*auditRequest
	// gen counts this Registry's committed writes that can change what is
	// in force (everything but audit entries); see Generation.
	gen atomic.Uint64
	// stmts holds the hot queries prepared once (query text -> *sql.Stmt);
	// database/sql prepares each on a connection the first time it runs
	// there and keeps it. SQLite otherwise compiled every query on every
	// call: 0.15 ms of CPU per issued certificate for four lookups.
	stmts sync.Map
	// statusListSize is Options.StatusListSize, validated.
	statusListSize int
}

// Options tune Open.
type Options struct {
	// Clock returns the current time; defaults to time.Now.
	Clock func() time.Time
	// SkipMigrate leaves the schema alone (for read-only tools).
	SkipMigrate bool
	// StatusListSize is the number of entries of each new status list:
	// DefaultStatusListSize when 0, else a multiple of 4 in
	// [MinStatusListSize, MaxStatusListSize].
	StatusListSize int
}

// Open connects to dsn and applies pending migrations.
//
// dsn is either a PostgreSQL URL (postgres://… or postgresql://…) or an
// SQLite database: "sqlite:PATH", "file:PATH" or a plain path; ":memory:"
// gives a private in-memory database.
func Open(ctx context.Context, dsn string, opt Options) (*Registry, error) {
	r := &Registry{now: opt.Clock, wsem: make(chan struct{}, 1)}
	if r.now == nil {
		r.now = time.Now
	}
	var err error
	if r.statusListSize, err = validateStatusListSize(opt.StatusListSize); err != nil {
		return nil, err
	}
	r.dialect = SQLite
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		r.dialect = Postgres
	} else {
		r.path = sqlitePath(dsn)
	}
	if r.path != "" {
		// Processes opening a new SQLite file at once take turns: switching
		// it to WAL and migrating it are not safe to race.
		unlock, err := r.fileLock()
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	if err := r.connect(ctx, dsn); err != nil {
		return nil, err
	}
	if opt.SkipMigrate {
		return r, nil
	}
	migrate := r.Migrate
	if r.path != "" {
		migrate = r.migrate // the file lock is held already
	}
	if err := migrate(ctx); err != nil {
		r.db.Close()
		return nil, err
	}
	return r, nil
}

// connect opens the database pool and checks that the server answers.
func (r *Registry) connect(ctx context.Context, dsn string) error {
	var err error
	if r.dialect == Postgres {
		r.db, err = sql.Open("pgx", dsn)
		if err == nil {
			r.db.SetMaxOpenConns(32)
			r.db.SetMaxIdleConns(32)
			r.db.SetConnMaxIdleTime(5 * time.Minute)
		}
	} else {
		r.db, err = openSQLite(dsn)
	}
	if err != nil {
		return fmt.Errorf("registry: open %s: %w", r.dialect, err)
	}
	if err := r.db.PingContext(ctx); err != nil {
		r.db.Close()
		return fmt.Errorf("registry: connect to %s: %w", r.dialect, err)
	}
	return nil
}

// fileLock takes the cross-process lock of an SQLite database file.
func (r *Registry) fileLock() (func() error, error) {
	if err := os.MkdirAll(filepath.Dir(r.path), 0o750); err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	unlock, err := flock.Lock(r.path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return unlock, nil
}

// sqlitePath returns the database file of an SQLite DSN, "" for in-memory.
func sqlitePath(dsn string) string {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == ":memory:" {
		return ""
	}
	return path
}

func openSQLite(dsn string) (*sql.DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	memory := path == ":memory:" || path == ""
	if !memory {
		if err := createOwnerOnly(path); err != nil {
			return nil, err
		}
	}
	pragmas := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_time_format=sqlite"
	if memory {
		// One shared connection: each new connection to ":memory:" would be a new, empty database.
		db, err := sql.Open("sqlite", "file::memory:?"+pragmas)
		if err == nil {
			db.SetMaxOpenConns(1)
		}
		return db, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	// SQLite has one writer; a small pool of readers, all kept open: a
	// connection closed for being idle would be reopened (files, WAL index,
	// schema) on the next query.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	return db, nil
}

// createOwnerOnly creates the SQLite database file readable and writable by
// its owner only (0600), before SQLite opens it: it holds ID numbers and
// phone numbers. SQLite gives the -wal and -shm files it creates the mode of
// the database file. Files made readable by others (by an earlier version,
// which created them 0644) are tightened to 0600 where this process owns
// them.
func createOwnerOnly(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if st, err := os.Stat(p); err == nil && st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil && !errors.Is(err, os.ErrPermission) {
				return err
			}
		}
	}
	return nil
}

// Migrate applies every pending schema migration. Processes started at
// the same instant on a fresh database take turns (a file lock beside the
// SQLite file, an advisory lock per schema on PostgreSQL): the first
// migrates, the others find the schema current.
func (r *Registry) Migrate(ctx context.Context) error {
	unlock, err := r.migrationLock(ctx)
	if err != nil {
		return fmt.Errorf("registry: migration lock: %w", err)
	}
	defer unlock()
	return r.migrate(ctx)
}

func (r *Registry) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(r.dialect))
	if err != nil {
		return err
	}
	gd := goose.DialectSQLite3
	if r.dialect == Postgres {
		gd = goose.DialectPostgres
	}
	p, err := goose.NewProvider(gd, r.db, sub)
	if err != nil {
		return fmt.Errorf("registry: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("registry: migrate %s: %w", r.dialect, err)
	}
	if _, err = r.backfillVerifyCodes(ctx); err != nil {
		return err
	}
	return r.backfillStatusRefs(ctx)
}

// migrationLock takes the cross-process lock that Migrate holds.
func (r *Registry) migrationLock(ctx context.Context) (func() error, error) {
	switch {
	case r.dialect == Postgres:
		return r.advisoryLock(ctx, "ecert-migrate")
	case r.path != "":
		return r.fileLock()
	}
	return func() error { return nil }, nil // in-memory: private to this process
}

// advisoryLock holds a PostgreSQL session advisory lock, named after the
// current schema so that separate schemas do not wait for each other, on a
// connection of its own until the returned function releases it.
func (r *Registry) advisoryLock(ctx context.Context, name string) (func() error, error) {
	conn, err := r.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	const key = "hashtext($1 || ':' || current_schema())"
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+key+")", name); err != nil {
		conn.Close()
		return nil, err
	}
	return func() error {
		defer conn.Close()
		_, err := conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock("+key+")", name)
		return err
	}, nil
}

// Dialect reports the SQL engine in use.
func (r *Registry) Dialect() Dialect { return r.dialect }

// DB exposes the pool for tests and health checks.
func (r *Registry) DB() *sql.DB { return r.db }

// Close releases the connection pool.
func (r *Registry) Close() error {
	r.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return r.db.Close()
}

// queryRow runs a query that the service runs often (a constant text with
// `?` placeholders) as a prepared statement.
func (r *Registry) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := r.stmts.Load(query); ok {
		return st.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	st, err := r.db.PrepareContext(ctx, r.q(query))
	if err != nil {
		// Not prepared (a closed database, a cancelled context): the
		// plain query reports the same error through the returned Row.
		return r.db.QueryRowContext(ctx, r.q(query), args...)
	}
	if prev, loaded := r.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryRowContext(ctx, args...)
}

// Ready reports whether the database answers, for /readyz.
func (r *Registry) Ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return r.db.PingContext(ctx)
}

// q rewrites `?` placeholders to `$n` for PostgreSQL.
func (r *Registry) q(query string) string {
	if r.dialect != Postgres {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("registry: not found")

// tx runs fn in a transaction, committing on nil and rolling back otherwise.
func (r *Registry) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if r.dialect == SQLite {
		select {
		case r.wsem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("registry: begin: %w", ctx.Err())
		}
		defer func() { <-r.wsem }()
	}
	return r.txLocked(ctx, fn)
}

// txLocked is tx for a caller that already holds the SQLite write lock.
func (r *Registry) txLocked(ctx context.Context, fn func(*sql.Tx) error) error {
	err := r.txCommit(ctx, fn)
	r.changed() // also after an unclear commit error: the rows may have landed
	return err
}

// Generation counts the writes this Registry committed that can change
// whether a certificate or registration is in force: certificates recorded
// (a new version supersedes the old), revocations, status changes,
// cancellations, intake. Audit entries do not count. A reader in this
// process may keep a snapshot of such rows while the generation is
// unchanged; writes by other processes are not counted, so such a snapshot
// must also be short-lived.
func (r *Registry) Generation() uint64 { return r.gen.Load() }

func (r *Registry) changed() { r.gen.Add(1) }

// txCommit runs fn in a transaction without counting a generation.
func (r *Registry) txCommit(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("registry: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("registry: commit: %w", err)
	}
	return nil
}

// Audit appends one entry to the audit log. On SQLite, entries written
// at the same time are committed together (see auditGrouped).
func (r *Registry) Audit(ctx context.Context, actor, action, subject, detail string) error {
	e := AuditEntry{At: r.now().UTC(), Actor: actor, Action: action, Subject: subject, Detail: detail}
	if r.dialect == SQLite {
		return r.auditGrouped(ctx, e)
	}
	_, err := r.db.ExecContext(ctx, r.q(auditInsert), e.At, e.Actor, e.Action, e.Subject, e.Detail)
	if err != nil {
		return fmt.Errorf("registry: audit: %w", err)
	}
	return nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	ID                             int64
	At                             time.Time
	Actor, Action, Subject, Detail string
}

// AuditLog returns the entries for subject, oldest first.
func (r *Registry) AuditLog(ctx context.Context, subject string) ([]AuditEntry, error) {
	rows, err := r.db.QueryContext(ctx, r.q(`SELECT id, at, actor, action, subject, detail FROM audit_log WHERE subject = ? ORDER BY id`), subject)
	if err != nil {
		return nil, fmt.Errorf("registry: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
