package issuance_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/ecert/ecert/internal/faultproxy"
	"github.com/ecert/ecert/internal/testenv"
	"github.com/ecert/ecert/issuance"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// Presses of 加注 while the registry's connections are cut at random moments
// (a proxy between ecert and PostgreSQL): a press may fail, but no recorded
// copy may point at a file that is gone. A connection cut after PostgreSQL
// committed the copy's row answers the writer with an error; the writer must
// find the row before it removes anything.
func TestRestampKeepsTheFilesOfACopyRecordedDespiteAnError(t *testing.T) {
	const certs, presses = 30, 3
	pg := testenv.PostgresDSN(t)
	schema := fmt.Sprintf("rf%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	direct := pg + "&search_path=" + schema
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.Start(t, u.Host)
	u.Host = proxy.Addr()
	e := newEnv(t, backends{dsn: u.String()})
	ctx := context.Background()
	as := approvals(certs, 51)
	for i := range as {
		as[i].BusinessType, as[i].NoticeEnd = registration.Change, registration.Date{}
	}
	e.intake(t, as)
	var reqs []issuance.RestampRequest
	for _, a := range as {
		res, err := e.svc.Issue(ctx, a.CaseID)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, issuance.RestampRequest{Holder: a.Person.IDNumber, CertificateNo: res.Certificate.CertificateNo, Format: "pdf"})
	}
	e.reg.DB().SetMaxIdleConns(0) // every query on a new connection: the proxy cuts new ones
	proxy.CutRandomly(0.1, 0)
	failed := 0
	for _, req := range reqs {
		for range presses {
			if _, err := e.svc.Restamp(ctx, req); err != nil {
				failed++
			}
		}
	}
	proxy.CutRandomly(0, 0)
	t.Logf("%d of %d presses failed; %d connections cut", failed, certs*presses, proxy.Cuts())
	reg, err := registry.Open(ctx, direct, registry.Options{SkipMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	rows, err := reg.DB().Query(`SELECT copy_id, object_key, digest FROM usage_copies`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n, lost := 0, 0
	for rows.Next() {
		var id, key, sha string
		if err := rows.Scan(&id, &key, &sha); err != nil {
			t.Fatal(err)
		}
		n++
		rc, _, err := e.svc.Open(ctx, key, sha)
		if err != nil {
			lost++
			t.Errorf("copy %s is recorded but its file %s: %v", id, key, err)
			continue
		}
		rc.Close()
	}
	if n == 0 || failed == 0 {
		t.Fatalf("%d copies recorded, %d presses failed: the cuts tested nothing", n, failed)
	}
	t.Logf("%d copies recorded, %d without their file", n, lost)
}
