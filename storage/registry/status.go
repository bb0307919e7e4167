package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ecert/ecert/registration"
)

// Status list sizes (entries per list). A list is as large as the
// registry's Options.StatusListSize when it is made and keeps its size.
const (
	DefaultStatusListSize = 1 << 20
	MinStatusListSize     = 1 << 17 // W3C Bitstring Status List's advice
	MaxStatusListSize     = 1 << 24
)

// Entry statuses, as statuslist.Status numbers them (the registry does not
// import the signing code).
const (
	EntryValid     = 0 // in force
	EntryInvalid   = 1 // revoked, cancelled, withdrawn
	EntrySuspended = 2 // superseded by a newer version, or suspended
)

// ErrStatusRef reports a status reference that cannot be bound: it was
// never reserved, or a certificate or copy holds it already.
var ErrStatusRef = errors.New("registry: status index not reserved or already bound")

// StatusRef is where a certificate version or usage copy stands in the
// status lists: list List (≥ 1), entry Index. The zero StatusRef means none.
type StatusRef struct {
	List  int64
	Index int64
}

// IsZero reports whether r is no reference.
func (r StatusRef) IsZero() bool { return r.List == 0 }

func (r StatusRef) String() string { return fmt.Sprintf("%d#%d", r.List, r.Index) }

// nullRef returns the column values of r, NULL for the zero reference.
func nullRef(r StatusRef) (sql.NullInt64, sql.NullInt64) {
	return sql.NullInt64{Int64: r.List, Valid: !r.IsZero()}, sql.NullInt64{Int64: r.Index, Valid: !r.IsZero()}
}

// scanRef makes a StatusRef of nullable columns.
func scanRef(list, idx sql.NullInt64) StatusRef {
	if !list.Valid || !idx.Valid {
		return StatusRef{}
	}
	return StatusRef{List: list.Int64, Index: idx.Int64}
}

// EntryStatus is the status list entry of a certificate in status s.
func EntryStatus(s registration.CertStatus) int {
	switch s {
	case registration.CertValid:
		return EntryValid
	case registration.CertLapsed, registration.CertSuspended:
		return EntrySuspended
	}
	return EntryInvalid
}

// validateStatusListSize checks Options.StatusListSize (0: the default).
func validateStatusListSize(n int) (int, error) {
	if n == 0 {
		return DefaultStatusListSize, nil
	}
	if n < MinStatusListSize || n > MaxStatusListSize || n%4 != 0 {
		return 0, fmt.Errorf("registry: Options.StatusListSize %d: want a multiple of 4 in [%d, %d]", n, MinStatusListSize, MaxStatusListSize)
	}
	return n, nil
}

// reserveAttempts bounds the random draws for a free index. A list takes
// reservations until half full, so each draw is free with probability at
// least one half: 64 draws all taken is 2^-64, i.e. a broken table.
const reserveAttempts = 64

// ReserveStatusIndex reserves a random free index in the current status
// list, opening a new list when the current one is half full. Issuance
// calls it before rendering a certificate or usage copy, prints the
// reference in the QR claim, and passes it in Certificate.StatusRef or
// UsageCopy.StatusRef when recording. An index reserved and never recorded
// stays VALID and unused.
func (r *Registry) ReserveStatusIndex(ctx context.Context) (StatusRef, error) {
	var ref StatusRef
	err := r.tx(ctx, func(tx *sql.Tx) error {
		var err error
		ref, err = r.reserveIn(ctx, tx)
		return err
	})
	if err != nil {
		return StatusRef{}, fmt.Errorf("registry: reserve status index: %w", err)
	}
	return ref, nil
}

// reserveIn reserves an index in tx (see ReserveStatusIndex). Concurrent
// reservations, in this process or others, never get the same index: the
// entry's primary key decides, and a draw that loses is drawn again.
func (r *Registry) reserveIn(ctx context.Context, tx *sql.Tx) (StatusRef, error) {
	now := r.now().UTC()
	for range 4 {
		var id, size, used int64
		err := tx.QueryRowContext(ctx, `SELECT id, size, used FROM status_lists ORDER BY id DESC LIMIT 1`).Scan(&id, &size, &used)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return StatusRef{}, err
		}
		if errors.Is(err, sql.ErrNoRows) || 2*used >= size {
			// Open the next list; a concurrent writer may open it first.
			if _, err := tx.ExecContext(ctx, r.q(`INSERT INTO status_lists (id, size, used, generation, created_at)
				VALUES (?, ?, 0, 0, ?) ON CONFLICT DO NOTHING`), id+1, r.statusListSize, now); err != nil {
				return StatusRef{}, err
			}
			continue
		}
		for range reserveAttempts {
			idx := rand.Int64N(size)
			res, err := tx.ExecContext(ctx, r.q(`INSERT INTO status_entries (list_id, idx, status, updated_at)
				VALUES (?, ?, 0, ?) ON CONFLICT DO NOTHING`), id, idx, now)
			if err != nil {
				return StatusRef{}, err
			}
			if n, err := res.RowsAffected(); err != nil {
				return StatusRef{}, err
			} else if n == 0 {
				continue // taken
			}
			if _, err := tx.ExecContext(ctx, r.q(`UPDATE status_lists SET used = used + 1 WHERE id = ?`), id); err != nil {
				return StatusRef{}, err
			}
			return StatusRef{List: id, Index: idx}, nil
		}
		return StatusRef{}, fmt.Errorf("list %d: no free index in %d draws", id, reserveAttempts)
	}
	return StatusRef{}, errors.New("no status list with room")
}

// bindIn records in tx that the reserved entry ref belongs to the
// certificate version (copyID "") or usage copy. A copy's entry starts with
// the status of its certificate version's entry.
func (r *Registry) bindIn(ctx context.Context, tx *sql.Tx, ref StatusRef, certNo string, version int, copyID string) error {
	now := r.now().UTC()
	res, err := tx.ExecContext(ctx, r.q(`UPDATE status_entries SET certificate_no = ?, version = ?, copy_id = ?, updated_at = ?,
		status = COALESCE((SELECT e.status FROM status_entries e WHERE e.certificate_no = ? AND e.version = ? AND e.copy_id IS NULL), 0)
		WHERE list_id = ? AND idx = ? AND certificate_no IS NULL`),
		certNo, version, nullIfEmpty(copyID), now, certNo, version, ref.List, ref.Index)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("%s: %w", ref, ErrStatusRef)
	}
	if copyID != "" {
		_, err = tx.ExecContext(ctx, r.q(`UPDATE status_lists SET generation = generation + 1
			WHERE id = ? AND EXISTS (SELECT 1 FROM status_entries WHERE list_id = ? AND idx = ? AND status <> 0)`),
			ref.List, ref.List, ref.Index)
	}
	return err
}

// setEntriesIn sets, in tx, every VALID entry matching where (a condition on
// status_entries' columns, with args) to status, and counts a new
// generation of each list it changes. Entries already INVALID or SUSPENDED
// keep their status. The lists are updated first, then the entries, in every
// writer, so that PostgreSQL writers take their locks in one order.
func (r *Registry) setEntriesIn(ctx context.Context, tx *sql.Tx, status int, where string, args ...any) error {
	if _, err := tx.ExecContext(ctx, r.q(`UPDATE status_lists SET generation = generation + 1
		WHERE id IN (SELECT list_id FROM status_entries WHERE status = 0 AND `+where+`)`), args...); err != nil {
		return fmt.Errorf("status list generation: %w", err)
	}
	if _, err := tx.ExecContext(ctx, r.q(`UPDATE status_entries SET status = ?, updated_at = ?
		WHERE status = 0 AND `+where), append([]any{status, r.now().UTC()}, args...)...); err != nil {
		return fmt.Errorf("status entries: %w", err)
	}
	return nil
}

// Conditions of setEntriesIn.
const (
	// entriesOfVersion: a certificate version and its copies (certNo, version).
	entriesOfVersion = `certificate_no = ? AND version = ?`
	// entriesBefore: the versions before one, and their copies (certNo, version).
	entriesBefore = `certificate_no = ? AND version < ?`
	// entriesOfRegistration: the certificates of a registration in a status,
	// and their copies (registration number, certificate status).
	entriesOfRegistration = `EXISTS (SELECT 1 FROM certificates c WHERE c.certificate_no = status_entries.certificate_no
		AND c.version = status_entries.version AND c.registration_number = ? AND c.status = ?)`
)

// StatusListInfo describes one status list.
type StatusListInfo struct {
	ID   int64
	Size int
	// Used counts the reserved indices.
	Used int
	// Generation grows with every committed change of an entry's status in
	// ANY list: a usage copy's entry follows its certificate version's entry
	// (see StatusEntries), which may stand in another list.
	Generation int64
	CreatedAt  time.Time
}

// StatusLists returns every status list, oldest first. It is one small
// query: the publisher polls it to learn which lists changed.
func (r *Registry) StatusLists(ctx context.Context) ([]StatusListInfo, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT id, size, used, (SELECT SUM(generation) FROM status_lists), created_at
		FROM status_lists ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("registry: status lists: %w", err)
	}
	defer rows.Close()
	var out []StatusListInfo
	for rows.Next() {
		var l StatusListInfo
		if err := rows.Scan(&l.ID, &l.Size, &l.Used, &l.Generation, &l.CreatedAt); err != nil {
			return nil, fmt.Errorf("registry: status lists: %w", err)
		}
		l.CreatedAt = l.CreatedAt.UTC()
		out = append(out, l)
	}
	return out, rows.Err()
}

// StatusEntry is one entry of a list that is not VALID.
type StatusEntry struct {
	Index  int64
	Status int
}

// StatusEntries returns list id as of one generation: its description and
// every entry that is not VALID, by index. The generation is read first,
// so a change committed meanwhile shows as a newer generation later. An
// unknown list is ErrNotFound.
func (r *Registry) StatusEntries(ctx context.Context, id int64) (StatusListInfo, []StatusEntry, error) {
	var l StatusListInfo
	err := r.db.QueryRowContext(ctx, r.q(`SELECT id, size, used, (SELECT SUM(generation) FROM status_lists), created_at
		FROM status_lists WHERE id = ?`), id).
		Scan(&l.ID, &l.Size, &l.Used, &l.Generation, &l.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return l, nil, fmt.Errorf("status list %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return l, nil, fmt.Errorf("registry: status list %d: %w", id, err)
	}
	l.CreatedAt = l.CreatedAt.UTC()
	// A copy's entry takes its certificate version's status when that is
	// not VALID: a copy recorded while its certificate was being revoked or
	// superseded may have been bound with VALID (RecordCopyOnce).
	rows, err := r.db.QueryContext(ctx, r.q(`SELECT e.idx, CASE WHEN e.status <> 0 THEN e.status ELSE c.status END
		FROM status_entries e LEFT JOIN status_entries c
			ON e.copy_id IS NOT NULL AND c.certificate_no = e.certificate_no AND c.version = e.version AND c.copy_id IS NULL
		WHERE e.list_id = ? AND (e.status <> 0 OR c.status <> 0) ORDER BY e.idx`), id)
	if err != nil {
		return l, nil, fmt.Errorf("registry: status list %d: %w", id, err)
	}
	defer rows.Close()
	var out []StatusEntry
	for rows.Next() {
		var e StatusEntry
		if err := rows.Scan(&e.Index, &e.Status); err != nil {
			return l, nil, fmt.Errorf("registry: status list %d: %w", id, err)
		}
		out = append(out, e)
	}
	return l, out, rows.Err()
}

// StatusOf returns the entry status at ref, for tests and diagnostics.
func (r *Registry) StatusOf(ctx context.Context, ref StatusRef) (int, error) {
	var s int
	err := r.db.QueryRowContext(ctx, r.q(`SELECT status FROM status_entries WHERE list_id = ? AND idx = ?`), ref.List, ref.Index).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("status entry %s: %w", ref, ErrNotFound)
	}
	return s, err
}

// backfillStatusRefs gives every certificate version and usage copy
// without a status reference (recorded before migration 00004, or by an
// older binary since) one, with the entry status of its certificate
// version's status. It runs after the migrations under the migration
// lock; the partial indexes make it two index probes when every row has one.
func (r *Registry) backfillStatusRefs(ctx context.Context) error {
	for _, copies := range []bool{false, true} {
		for {
			n, err := r.backfillStatusBatch(ctx, copies)
			if err != nil {
				return fmt.Errorf("registry: backfill status references: %w", err)
			}
			if n < backfillBatch {
				break
			}
		}
	}
	return nil
}

func (r *Registry) backfillStatusBatch(ctx context.Context, copies bool) (int, error) {
	query := `SELECT c.certificate_no, c.version, '', c.status FROM certificates c
		WHERE c.status_list IS NULL ORDER BY c.certificate_no, c.version LIMIT ?`
	if copies {
		query = `SELECT u.certificate_no, u.version, u.copy_id, c.status FROM usage_copies u
		JOIN certificates c ON c.certificate_no = u.certificate_no AND c.version = u.version
		WHERE u.status_list IS NULL ORDER BY u.copy_id LIMIT ?`
	}
	n := 0
	err := r.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, r.q(query), backfillBatch)
		if err != nil {
			return err
		}
		type row struct {
			no, copyID, status string
			version            int
		}
		var todo []row
		for rows.Next() {
			var x row
			if err := rows.Scan(&x.no, &x.version, &x.copyID, &x.status); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, x := range todo {
			ref, err := r.reserveIn(ctx, tx)
			if err != nil {
				return err
			}
			if x.copyID == "" {
				_, err = tx.ExecContext(ctx, r.q(`UPDATE certificates SET status_list = ?, status_idx = ? WHERE certificate_no = ? AND version = ?`),
					ref.List, ref.Index, x.no, x.version)
			} else {
				_, err = tx.ExecContext(ctx, r.q(`UPDATE usage_copies SET status_list = ?, status_idx = ? WHERE copy_id = ?`),
					ref.List, ref.Index, x.copyID)
			}
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, r.q(`UPDATE status_entries SET certificate_no = ?, version = ?, copy_id = ?, status = ?
				WHERE list_id = ? AND idx = ?`), x.no, x.version, nullIfEmpty(x.copyID), EntryStatus(registration.CertStatus(x.status)),
				ref.List, ref.Index); err != nil {
				return err
			}
			if s := EntryStatus(registration.CertStatus(x.status)); s != EntryValid {
				if _, err := tx.ExecContext(ctx, r.q(`UPDATE status_lists SET generation = generation + 1 WHERE id = ?`), ref.List); err != nil {
					return err
				}
			}
		}
		n = len(todo)
		return nil
	})
	return n, err
}
