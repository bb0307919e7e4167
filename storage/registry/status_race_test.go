package registry_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/sampledata"
	"github.com/ecert/ecert/storage/registry"
)

// A usage copy recorded at the very moment its certificate is revoked or
// its registration cancelled is never left VALID in the list a verifier
// gets, whichever commits first; and the generation the publisher polls
// has moved past the copy's commit, so the list is built again.
func TestCopyRecordedDuringRevocationIsNeverValid(t *testing.T) {
	const rounds = 30
	forEachEngine(t, func(t *testing.T, r *registry.Registry) {
		ctx := context.Background()
		as := sampledata.Generate(rounds, sampledata.Options{Seed: 9000, Base: registration.Today(time.Now()).AddDays(-30)})
		for i := range rounds {
			f := statusFixtureOf(t, r, as[i], uint64(9000+i))
			from := time.Now().UTC()
			u := registry.UsageCopy{CopyID: fmt.Sprintf("race-%d", i), CertificateNo: f.cert, Version: 1, Format: "pdf",
				Purpose: "年检", Day: registration.Today(from), ValidFrom: from, ValidUntil: from.Add(24 * time.Hour),
				CreatedBy: "holder", ObjectKey: "copies/y", SHA256: "00"}
			start := make(chan struct{})
			var wg sync.WaitGroup
			var rec registry.UsageCopy
			var recErr, chErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				rec, _, recErr = r.RecordCopyOnce(ctx, u)
			}()
			go func() {
				defer wg.Done()
				<-start
				if i%2 == 0 {
					_, chErr = r.RevokeCertificate(ctx, f.cert, "以欺骗手段取得注册", "reviewer")
				} else {
					_, chErr = r.CancelRegistration(ctx, f.reg, "expired", registration.Today(from), "scheduler")
				}
			}()
			close(start)
			wg.Wait()
			if recErr != nil || chErr != nil {
				t.Fatalf("round %d: copy %v, status change %v", i, recErr, chErr)
			}
			_, set, err := r.StatusEntries(ctx, rec.StatusRef.List)
			if err != nil {
				t.Fatal(err)
			}
			got := -1
			for _, e := range set {
				if e.Index == rec.StatusRef.Index {
					got = e.Status
				}
			}
			if got != registry.EntryInvalid {
				t.Fatalf("round %d: the copy recorded during the change is %d in its list, want INVALID", i, got)
			}
		}
	})
}
