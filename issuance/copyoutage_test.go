package issuance_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// Issue item 12, copy half: a connection cut after PostgreSQL committed a
// usage copy's row must not make the service delete the copy's file.
// Every recorded copy must read back, however the connections were cut.
func TestRestampWithConnectionsCutKeepsEveryRecordedCopy(t *testing.T) {
	direct := testenv.PostgresSchema(t)
	dsn, proxy := viaProxy(t, direct)
	e := newEnv(t, backends{dsn: dsn})
	as := approvals(60, 13)
	e.intake(t, as)
	svc := serviceWith(t, e, issuance.Config{Logger: slog.New(slog.DiscardHandler)})
	var reqs []issuance.RestampRequest
	for _, a := range as {
		res, err := svc.Issue(context.Background(), a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		for p := range 6 {
			reqs = append(reqs, issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: res.Certificate.CertificateNo,
				Format: "pdf", Purpose: fmt.Sprintf("投标%d", p)})
		}
	}
	proxy.CutRandomly(0.04, 0)
	failures := 0
	for round := 1; len(reqs) > 0; round++ {
		if round == 4 {
			proxy.CutRandomly(0, 0)
		}
		if round > 8 {
			t.Fatalf("%d presses still failing after %d rounds", len(reqs), round-1)
		}
		reqs = failing(reqs, 8, func(r issuance.RestampRequest) error {
			_, err := svc.Restamp(context.Background(), r)
			return err
		})
		failures += len(reqs)
	}
	t.Logf("%d connections cut, %d failed presses re-run", proxy.Cuts(), failures)
	reg, err := registry.Open(context.Background(), direct, registry.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	if bad := danglingCopies(t, reg, e.store); len(bad) > 0 {
		t.Errorf("%d recorded copies do not read back, e.g. %s", len(bad), bad[0])
	}
}

// danglingCopies reads back the file of every recorded usage copy and
// lists those missing or with another digest than the row's.
func danglingCopies(t *testing.T, reg *registry.Registry, store objectstore.Store) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := reg.DB().QueryContext(ctx, `SELECT object_key, digest FROM usage_copies`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var bad []string
	n := 0
	for rows.Next() {
		var key, digest string
		if err := rows.Scan(&key, &digest); err != nil {
			t.Fatal(err)
		}
		n++
		info, err := objectstore.Verify(ctx, store, key)
		switch {
		case errors.Is(err, objectstore.ErrNotFound):
			bad = append(bad, key+": missing")
		case err != nil:
			bad = append(bad, key+": "+err.Error())
		case info.SHA256 != digest:
			bad = append(bad, key+": digest "+info.SHA256+", recorded "+digest)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no usage copy rows")
	}
	return bad
}
