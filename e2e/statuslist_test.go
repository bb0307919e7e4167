package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/ecert/ecert/internal/app"
	"github.com/ecert/ecert/signing/cose"
	"github.com/ecert/ecert/signing/statuslist"
	"github.com/ecert/ecert/storage/registry"
)

func init() {
	openapi3filter.RegisterBodyDecoder(statuslist.MediaType, openapi3filter.FileBodyDecoder)
}

// statusList fetches the status list of cert's current version as a
// verifier would, verifies it offline with the authority's certificate,
// and wants want for the version and every usage copy of it.
func (s *stack) statusList(t *testing.T, cert certView, want statuslist.Status) {
	t.Helper()
	ctx := context.Background()
	cur, err := s.app.Registry.CurrentCertificate(ctx, cert.CertificateNo)
	if err != nil || cur.StatusRef.IsZero() {
		t.Fatalf("certificate %s: status reference %s (%v)", cert.CertificateNo, cur.StatusRef, err)
	}
	refs := map[string]registry.StatusRef{"certificate": cur.StatusRef}
	// certificate_no is digits only (registry.CertificateNo), so it is quoted as it is.
	rows, err := s.app.Registry.DB().QueryContext(ctx, `SELECT copy_id, status_list, status_idx FROM usage_copies
		WHERE certificate_no = '`+cert.CertificateNo+`' AND version = `+strconv.Itoa(cur.Version))
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		var ref registry.StatusRef
		if err := rows.Scan(&id, &ref.List, &ref.Index); err != nil {
			t.Fatal(err)
		}
		refs["copy "+id] = ref
	}
	rows.Close()
	if len(refs) < 2 {
		t.Fatalf("certificate %s has no usage copy to check", cert.CertificateNo)
	}

	signer, err := s.app.Keys.Signer()
	if err != nil {
		t.Fatal(err)
	}
	kid := cose.KeyID(signer.Chain()[0])
	keys := func(got []byte) (*ecdsa.PublicKey, error) {
		if !bytes.Equal(got, kid) {
			return nil, fmt.Errorf("%w: %x", cose.ErrUnknownKey, got)
		}
		return signer.Public(), nil
	}
	tokens := map[int64]*statuslist.Token{}
	for name, ref := range refs {
		tok := tokens[ref.List]
		if tok == nil {
			r := s.get(t, app.StatusListPath(ref.List), nil)
			if r.Status != http.StatusOK || r.Header.Get("Content-Type") != statuslist.MediaType || r.Header.Get("ETag") == "" {
				t.Fatalf("status list %d: %d %q; body %.300s", ref.List, r.Status, r.Header.Get("Content-Type"), r.Body)
			}
			if tok, err = statuslist.Parse(r.Body, keys); err != nil {
				t.Fatalf("status list %d: %v", ref.List, err)
			}
			if tok.Subject != s.app.Config.StatusListURI(ref.List) {
				t.Errorf("status list %d: sub %q", ref.List, tok.Subject)
			}
			again := s.get(t, app.StatusListPath(ref.List), map[string]string{"If-None-Match": r.Header.Get("ETag")})
			if again.Status != http.StatusNotModified || len(again.Body) != 0 {
				t.Errorf("status list %d with its ETag: %d, want 304", ref.List, again.Status)
			}
			tokens[ref.List] = tok
		}
		got, err := tok.Status(int(ref.Index), time.Now())
		if err != nil || got != want {
			t.Errorf("%s at %s: %v %v, want %v", name, ref, got, err, want)
		}
	}
	if r := s.get(t, app.StatusListPath(1<<40), nil); r.Status != http.StatusNotFound {
		t.Errorf("an unknown status list: %d, want 404", r.Status)
	}
}
