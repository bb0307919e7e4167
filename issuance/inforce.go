package issuance

import (
	"context"
	"sync"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// inForceMax bounds the snapshots kept; past it the map starts again empty.
const inForceMax = 100_000

// inForce keeps, for a short time, the certificate and registration rows a
// press of 加注 reads, so that repeated presses answered with the day's
// existing copy cost no registry query. A snapshot is dropped when this
// process's registry commits any write that can change what is in force
// (registry.Generation) and after ttl in any case, which bounds how long a
// change made by another process (a revocation by `ecert revoke`, another
// server) can go unseen here. A snapshot only ever answers with a copy that
// already exists; a new copy is signed only after the rows are read again.
type inForce struct {
	ttl time.Duration
	gen func() uint64
	now func() time.Time

	mu sync.Mutex
	at uint64 // the generation the snapshots in m were read under
	m  map[string]inForceEntry
}

type inForceEntry struct {
	cert registry.Certificate
	reg  registration.Registration
	exp  time.Time
}

func newInForce(ttl time.Duration, gen func() uint64) *inForce {
	return &inForce{ttl: ttl, gen: gen, now: time.Now, m: make(map[string]inForceEntry)}
}

// get returns the snapshot of certNo, if one is still good.
func (f *inForce) get(certNo string) (registry.Certificate, registration.Registration, bool) {
	if f.ttl <= 0 {
		return registry.Certificate{}, registration.Registration{}, false
	}
	g := f.gen()
	f.mu.Lock()
	defer f.mu.Unlock()
	if g != f.at {
		clear(f.m)
		f.at = g
		return registry.Certificate{}, registration.Registration{}, false
	}
	e, ok := f.m[certNo]
	if !ok || !f.now().Before(e.exp) {
		return registry.Certificate{}, registration.Registration{}, false
	}
	return e.cert, e.reg, true
}

// put keeps a snapshot read under generation g (read before the rows were).
func (f *inForce) put(g uint64, cert registry.Certificate, reg registration.Registration) {
	if f.ttl <= 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if g != f.at {
		if g < f.at { // a write landed since the rows were read
			return
		}
		clear(f.m)
		f.at = g
	}
	if len(f.m) >= inForceMax {
		clear(f.m)
	}
	f.m[cert.CertificateNo] = inForceEntry{cert: cert, reg: reg, exp: f.now().Add(f.ttl)}
}

// inForceRows returns the current certificate certNo and its registration,
// from the snapshot when fresh is false and one is good; cached reports
// whether they came from the snapshot.
func (s *Service) inForceRows(ctx context.Context, certNo string, fresh bool) (cert registry.Certificate, reg registration.Registration, cached bool, err error) {
	if !fresh {
		if cert, reg, ok := s.snap.get(certNo); ok {
			return cert, reg, true, nil
		}
	}
	g := s.reg.Generation()
	if cert, err = s.reg.CurrentCertificate(ctx, certNo); err != nil {
		return cert, reg, false, err
	}
	if reg, err = s.reg.Registration(ctx, cert.RegistrationNo); err != nil {
		return cert, reg, false, err
	}
	s.snap.put(g, cert, reg)
	return cert, reg, false, nil
}
