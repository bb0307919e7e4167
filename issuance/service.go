// Package issuance is ecert's main job: an approved case becomes a signed
// certificate (OFD and PDF rendered by certgen, signed by signing, stored in
// the object store and recorded in the registry), and an applicant's press
// of 加注 becomes a usage copy with a fresh usage validity.
//
// Issuance is idempotent by case id and crash-safe: objects are written
// under content-addressed keys before the registry row that points at them,
// so a process killed at any step leaves no row pointing at a missing file,
// and running the job again completes it. Re-stamping is single-flight across
// processes through a lock in the cache, and the registry serialises copy
// creation per certificate so that even without the cache there is never
// more than one valid copy per certificate and format at any moment.
package issuance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/ofdsig"
	"github.com/ecert/ecert/storage/cache"
	"github.com/ecert/ecert/storage/objectstore"
	"github.com/ecert/ecert/storage/registry"
)

// Authority is the issuing authority (发证机关) as printed and as encoded in licence identifiers.
type Authority struct {
	// Name is printed on the certificate and the seal, e.g. 辽宁省住房和城乡建设厅.
	Name string
	// Code is the authority's 18-character unified social credit code: the issuer code of licence identifiers.
	Code string
	// LicenceType is the licence type code (default registration.TypeCodeConstructor2).
	LicenceType string
	// SealName is printed under the star of the seal picture (default 电子证照专用章).
	SealName string
	// Location goes into the PDF signature dictionary (default 辽宁省沈阳市).
	Location string
}

// Config tunes a Service. The zero value of every field has a working default.
type Config struct {
	Authority Authority
	// CopyValidity is the usage validity of a re-stamped copy (default 180 days).
	CopyValidity time.Duration
	// LockTTL bounds how long a crashed re-stamp can hold the single-flight lock (default 30 s).
	LockTTL time.Duration
	// WaitForCopy is how long a press waits for a concurrent press to finish the copy (default 20 s).
	WaitForCopy time.Duration
	// Clock is the time source (default time.Now).
	Clock func() time.Time
	// Policy holds the policy extensions used for effective valid-until.
	Policy registration.Policy
	// Logger receives structured logs (default slog.Default()). ID numbers are masked.
	Logger *slog.Logger
	// BackendRetry is how long Issue keeps retrying a case while the
	// registry or the object store is unavailable (a restart, a dropped
	// connection), with exponential backoff and jitter (default
	// DefaultBackendRetry; negative: no retries).
	BackendRetry time.Duration
	// InForceTTL is how long a press of 加注 may answer from the rows an
	// earlier press read (default 2 s; negative: always read them). Writes
	// through this process's registry end it at once; it bounds how late a
	// revocation made by another process is seen by a press that is
	// answered with the day's existing copy. New copies always read anew.
	InForceTTL time.Duration
}

// DefaultAuthority is the development authority used by the embedded defaults.
var DefaultAuthority = Authority{
	Name:     signing.DefaultAuthorityName,
	Code:     "11210000MB0000000J", // development code (valid check character); production sets the real one
	SealName: "电子证照专用章",
	Location: "辽宁省沈阳市",
}

func (c *Config) defaults() error {
	if c.Authority.Name == "" {
		c.Authority.Name = DefaultAuthority.Name
	}
	if c.Authority.Code == "" {
		c.Authority.Code = DefaultAuthority.Code
	}
	if c.Authority.LicenceType == "" {
		c.Authority.LicenceType = registration.TypeCodeConstructor2
	}
	if c.Authority.SealName == "" {
		c.Authority.SealName = DefaultAuthority.SealName
	}
	if c.Authority.Location == "" {
		c.Authority.Location = DefaultAuthority.Location
	}
	if c.CopyValidity == 0 {
		c.CopyValidity = 180 * 24 * time.Hour
	}
	if c.CopyValidity < 24*time.Hour {
		// Presses on the same day return that day's copy, so a copy must
		// last at least until the end of the day it was made on.
		return fmt.Errorf("issuance: CopyValidity %s is shorter than a day", c.CopyValidity)
	}
	if c.LockTTL == 0 {
		c.LockTTL = 30 * time.Second
	}
	if c.WaitForCopy == 0 {
		c.WaitForCopy = 20 * time.Second
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Policy.Extensions == nil {
		c.Policy = registration.DefaultPolicy()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.BackendRetry == 0 {
		c.BackendRetry = DefaultBackendRetry
	}
	if c.InForceTTL == 0 {
		c.InForceTTL = 2 * time.Second
	}
	probe := registration.LicenceID{TypeCode: c.Authority.LicenceType, IssuerCode: c.Authority.Code, Serial: "1", Version: 1}
	if err := probe.Validate(); err != nil {
		return fmt.Errorf("issuance: Authority.Code/LicenceType: %w", err)
	}
	return nil
}

// Deps are the parts a Service is built from.
type Deps struct {
	Registry *registry.Registry
	Store    objectstore.Store
	Cache    cache.Cache
	Renderer *certgen.Renderer
	Signer   signing.Signer
	// SealPNG is the picture in the OFD electronic seal (the renderer's seal
	// when nil). In the PDF the page shows the renderer's seal, and the
	// signature's widget draws no second copy (pdfsig.PageSeal).
	SealPNG []byte
	Metrics *Metrics
}

// Service issues certificates and usage copies.
type Service struct {
	cfg   Config
	reg   *registry.Registry
	store objectstore.Store
	cache cache.Cache
	rnd   *certgen.Renderer
	sig   signing.Signer
	m     *Metrics
	log   *slog.Logger
	down  *outages
	snap  *inForce
	// answers holds the day's answers to presses in this process.
	answers *answers

	sealDER  []byte
	signerSN string
	pdfRoom  int // bytes the PDF signature reserves for its CMS (cms.SignedSize)

	// flights collapses concurrent re-stamps within this process; the cache
	// lock does the same across processes.
	flights singleflight.Group
}

// New validates the configuration and prepares the seal used by every signature.
func New(ctx context.Context, cfg Config, d Deps) (*Service, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if d.Registry == nil || d.Store == nil || d.Cache == nil || d.Renderer == nil || d.Signer == nil {
		return nil, errors.New("issuance: Registry, Store, Cache, Renderer and Signer are all required")
	}
	s := &Service{cfg: cfg, reg: d.Registry, store: d.Store, cache: d.Cache, rnd: d.Renderer, sig: d.Signer,
		m: d.Metrics, log: cfg.Logger, down: newOutages(cfg.Logger, cfg.BackendRetry),
		snap: newInForce(cfg.InForceTTL, d.Registry.Generation), answers: newAnswers()}
	s.snap.now = cfg.Clock
	if s.m == nil {
		s.m = NewMetrics(nil)
	}
	sealPNG := d.SealPNG
	if sealPNG == nil {
		var err error
		if sealPNG, err = d.Renderer.SealPNG(cfg.Authority.Name); err != nil {
			return nil, fmt.Errorf("issuance: seal picture: %w", err)
		}
	}
	chain := d.Signer.Chain()
	if len(chain) == 0 {
		return nil, errors.New("issuance: signer has no certificate")
	}
	leaf := chain[0]
	s.signerSN = strings.ToUpper(leaf.SerialNumber.Text(16))
	// Once, not for every signature: it depends on the chain only.
	var err error
	if s.pdfRoom, err = cms.SignedSize(d.Signer, cms.Options{Profile: cms.ProfilePKCS7}); err != nil { // signPDF's profile
		return nil, fmt.Errorf("issuance: PDF signature size: %w", err)
	}
	box := d.Renderer.SealRect()
	s.sealDER, err = ofdsig.MakeSeal(ctx, d.Signer, ofdsig.SealSpec{
		ESID:       "ECERT-" + s.signerSN,
		Name:       cfg.Authority.Name + cfg.Authority.SealName,
		PNG:        sealPNG,
		WidthMM:    int(box.W + 0.5),
		HeightMM:   int(box.H + 0.5),
		Created:    leaf.NotBefore,
		ValidStart: leaf.NotBefore,
		ValidEnd:   leaf.NotAfter,
		Holders:    chain[:1],
	})
	if err != nil {
		return nil, fmt.Errorf("issuance: electronic seal: %w", err)
	}
	return s, nil
}

// Registry returns the registry the service records in.
func (s *Service) Registry() *registry.Registry { return s.reg }

// Store returns the object store holding certificates and copies.
func (s *Service) Store() objectstore.Store { return s.store }

// SignerSerial is the hex serial of the issuer certificate signing new documents.
func (s *Service) SignerSerial() string { return s.signerSN }

// maxFileWorkers caps DefaultWorkers for local files: ≈ 1 MB each in flight.
const maxFileWorkers = 512

// DefaultWorkers is how many certificates one process should issue at once
// with store. Issuing waits on storage as much as it computes, so both are
// well above the number of cores. Local files: 64 per core, because every
// Put waits for a shared syncfs and the workers must outnumber those
// waiting by enough to keep the cores busy (on 2 cores, 32 / 64 / 128
// workers: 488–567 / 542–590 / 543–605 certificates/s interleaved; 128
// workers hold ≈ 125 MB), at most maxFileWorkers so that memory stays
// bounded on large machines. MinIO: 4 per core; a certificate writes its
// two files at once, and MinIO took the most PUTs/s with about 16 in
// flight (8 workers on 2 cores gave a median of 66 % of that ceiling
// against 62 % with 16; docs/issuance.md).
func DefaultWorkers(store objectstore.Store) int {
	if _, ok := store.(*objectstore.Filesystem); ok {
		return min(64*runtime.GOMAXPROCS(0), maxFileWorkers)
	}
	return 4 * runtime.GOMAXPROCS(0)
}
