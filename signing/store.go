package signing

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/internal/flock"
)

// Environment variables that supply the key passphrase.
const (
	EnvPassphrase     = "ECERT_KEY_PASSPHRASE"
	EnvPassphraseFile = "ECERT_KEY_PASSPHRASE_FILE"
)

// MinPassphraseLen is the shortest passphrase a Store accepts.
const MinPassphraseLen = 12

// Store keeps the root CA and the issuing-authority keys in a directory:
//
//	root.pem                 root CA certificate
//	root.key                 root private key, encrypted PKCS#8 (PBES2, PBKDF2-SHA256, AES-256-CBC)
//	issuers/<serial>.pem     every issuing-authority certificate ever made (kept after rotation)
//	issuers/<serial>.key     its encrypted private key
//	current                  serial (hex) of the issuer certificate used for new signatures
//	service.pem              the verification service's certificate (signs verification reports only)
//	service.key              its encrypted private key
//
// Documents signed with a retired issuer key still verify: they carry their
// certificate, which chains to the same root.
type Store struct {
	dir  string
	pass []byte
	cfg  CAConfig
}

// ErrNoKeys reports a store directory without keys (run `ecert keys init`).
var ErrNoKeys = errors.New("signing: no keys in store (run `ecert keys init`)")

// ErrNoPassphrase reports that neither passphrase variable is set.
var ErrNoPassphrase = fmt.Errorf("signing: no key passphrase: set %s or %s", EnvPassphrase, EnvPassphraseFile)

// PassphraseFromEnv returns the key passphrase from ECERT_KEY_PASSPHRASE or,
// failing that, the file named by ECERT_KEY_PASSPHRASE_FILE (one trailing
// newline removed). Neither set is ErrNoPassphrase; a file that cannot be
// read or holds nothing is a different error: the operator asked for a
// passphrase and did not get one.
func PassphraseFromEnv() ([]byte, error) {
	if p := os.Getenv(EnvPassphrase); p != "" {
		return []byte(p), nil
	}
	f := os.Getenv(EnvPassphraseFile)
	if f == "" {
		return nil, ErrNoPassphrase
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return nil, fmt.Errorf("signing: read passphrase file named by %s: %w", EnvPassphraseFile, err)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return nil, fmt.Errorf("signing: passphrase file named by %s is empty", EnvPassphraseFile)
	}
	return []byte(p), nil
}

// NewStore returns the store in dir, unlocked with passphrase. A nil
// passphrase opens it for reading certificates only.
func NewStore(dir string, passphrase []byte, cfg CAConfig) (*Store, error) {
	if passphrase != nil && len(passphrase) < MinPassphraseLen {
		return nil, fmt.Errorf("signing: key passphrase must be at least %d bytes", MinPassphraseLen)
	}
	return &Store{dir: dir, pass: passphrase, cfg: cfg.Defaults()}, nil
}

var errLocked = errors.New("signing: key store opened without a passphrase")

// Current returns the serial (hex) of the current issuer certificate.
func (s *Store) Current() (string, error) {
	cur, err := os.ReadFile(filepath.Join(s.dir, "current"))
	if err != nil {
		return "", fmt.Errorf("read current issuer: %w", err)
	}
	name := strings.TrimSpace(string(cur))
	if _, err := hex.DecodeString(name); err != nil || name == "" {
		return "", fmt.Errorf("signing: bad current issuer name %q", name)
	}
	return name, nil
}

// Dir returns the store directory.
func (s *Store) Dir() string { return s.dir }

// Exists reports whether the store holds a root certificate.
func (s *Store) Exists() bool {
	_, err := os.Stat(filepath.Join(s.dir, "root.pem"))
	return err == nil
}

// Init creates the root CA and the first issuing-authority key. It refuses
// to overwrite an existing store; processes racing to create one take turns
// on the store's lock, and all but the first are refused.
func (s *Store) Init(ctx context.Context) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return s.initLocked(ctx)
}

func (s *Store) initLocked(ctx context.Context) error {
	if s.Exists() {
		return fmt.Errorf("signing: store %s already initialised", s.dir)
	}
	key, cert, err := NewRootCA(s.cfg)
	if err != nil {
		return err
	}
	if err := s.writeKey(filepath.Join(s.dir, "root.key"), key); err != nil {
		return err
	}
	if err := writeCert(filepath.Join(s.dir, "root.pem"), cert); err != nil {
		return err
	}
	if _, err = s.rotateLocked(ctx); err != nil {
		return err
	}
	return s.newServiceLocked(ctx)
}

// lock creates the store directory and takes its cross-process lock.
func (s *Store) lock() (func() error, error) {
	if err := os.MkdirAll(filepath.Join(s.dir, "issuers"), 0o700); err != nil {
		return nil, fmt.Errorf("create key store: %w", err)
	}
	return flock.Lock(filepath.Join(s.dir, ".lock"))
}

// Rotate makes a new issuing-authority key and certificate under the root
// and makes it current. Earlier issuer certificates and keys stay in the
// store so that documents they signed keep verifying.
func (s *Store) Rotate(ctx context.Context) (*smx509.Certificate, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	return s.rotateLocked(ctx)
}

func (s *Store) rotateLocked(ctx context.Context) (*smx509.Certificate, error) {
	root, err := s.rootSigner()
	if err != nil {
		return nil, err
	}
	key, cert, err := IssueAuthorityCertificate(ctx, root, s.cfg)
	if err != nil {
		return nil, err
	}
	name := hex.EncodeToString(cert.SerialNumber.Bytes())
	if err := s.writeKey(filepath.Join(s.dir, "issuers", name+".key"), key); err != nil {
		return nil, err
	}
	if err := writeCert(filepath.Join(s.dir, "issuers", name+".pem"), cert); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(s.dir, "current"), []byte(name+"\n"), 0o600); err != nil {
		return nil, err
	}
	return cert, nil
}

// Root returns the root CA certificate.
func (s *Store) Root() (*smx509.Certificate, error) {
	if !s.Exists() {
		return nil, ErrNoKeys
	}
	return readCert(filepath.Join(s.dir, "root.pem"))
}

// IssuerCertificates returns every issuing-authority certificate in the
// store, current and retired, ordered by NotBefore.
func (s *Store) IssuerCertificates() ([]*smx509.Certificate, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "issuers", "*.pem"))
	if err != nil {
		return nil, err
	}
	var out []*smx509.Certificate
	for _, f := range files {
		c, err := readCert(f)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].NotBefore.Before(out[j].NotBefore) })
	return out, nil
}

// Signer loads the current issuing-authority key; its chain is
// [issuer certificate, root certificate].
func (s *Store) Signer() (*KeySigner, error) {
	root, err := s.Root()
	if err != nil {
		return nil, err
	}
	name, err := s.Current()
	if err != nil {
		return nil, err
	}
	cert, err := readCert(filepath.Join(s.dir, "issuers", name+".pem"))
	if err != nil {
		return nil, err
	}
	key, err := s.readKey(filepath.Join(s.dir, "issuers", name+".key"))
	if err != nil {
		return nil, err
	}
	return NewKeySigner(key, []*smx509.Certificate{cert, root})
}

// ReportSigner loads the verification service's key, which signs
// verification reports and nothing else; its chain is [service
// certificate, root certificate], the same root as the issuer's. A store
// made before the service key existed gets one on first use, made under
// the store's lock (so concurrent processes make exactly one). Like Signer
// it needs the passphrase and fails on a wrong one.
func (s *Store) ReportSigner(ctx context.Context) (*KeySigner, error) {
	if s.pass == nil {
		return nil, errLocked
	}
	if !s.Exists() {
		return nil, ErrNoKeys
	}
	if _, err := os.Stat(filepath.Join(s.dir, "service.pem")); errors.Is(err, os.ErrNotExist) {
		unlock, err := s.lock()
		if err != nil {
			return nil, err
		}
		err = s.ensureServiceLocked(ctx)
		unlock()
		if err != nil {
			return nil, err
		}
	}
	root, err := s.Root()
	if err != nil {
		return nil, err
	}
	cert, err := readCert(filepath.Join(s.dir, "service.pem"))
	if err != nil {
		return nil, err
	}
	key, err := s.readKey(filepath.Join(s.dir, "service.key"))
	if err != nil {
		return nil, err
	}
	return NewKeySigner(key, []*smx509.Certificate{cert, root})
}

// ServiceCertificate returns the verification service's certificate, or
// an error wrapping os.ErrNotExist when none has been made yet.
func (s *Store) ServiceCertificate() (*smx509.Certificate, error) {
	return readCert(filepath.Join(s.dir, "service.pem"))
}

// ensureServiceLocked makes the service key unless another process made it
// while this one waited for the lock.
func (s *Store) ensureServiceLocked(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(s.dir, "service.pem")); err == nil {
		return nil
	}
	return s.newServiceLocked(ctx)
}

// newServiceLocked makes the service key and certificate; the key is
// written first, so a certificate on disk always has its key.
func (s *Store) newServiceLocked(ctx context.Context) error {
	root, err := s.rootSigner()
	if err != nil {
		return err
	}
	key, cert, err := IssueServiceCertificate(ctx, root, s.cfg)
	if err != nil {
		return err
	}
	if err := s.writeKey(filepath.Join(s.dir, "service.key"), key); err != nil {
		return err
	}
	return writeCert(filepath.Join(s.dir, "service.pem"), cert)
}

func (s *Store) rootSigner() (*KeySigner, error) {
	cert, err := s.Root()
	if err != nil {
		return nil, err
	}
	key, err := s.readKey(filepath.Join(s.dir, "root.key"))
	if err != nil {
		return nil, err
	}
	return NewKeySigner(key, []*smx509.Certificate{cert})
}

var keyOpts = &pkcs8.Opts{
	Cipher:  pkcs8.AES256CBC,
	KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: 100_000, HMACHash: pkcs8.SHA256},
}

func (s *Store) writeKey(path string, key *sm2.PrivateKey) error {
	if s.pass == nil {
		return errLocked
	}
	der, err := pkcs8.MarshalPrivateKey(key, s.pass, keyOpts)
	if err != nil {
		return fmt.Errorf("encrypt private key: %w", err)
	}
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), 0o600)
}

func (s *Store) readKey(path string) (*sm2.PrivateKey, error) {
	if s.pass == nil {
		return nil, errLocked
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "ENCRYPTED PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not an encrypted PKCS#8 private key", filepath.Base(path))
	}
	key, err := pkcs8.ParsePKCS8PrivateKeySM2(blk.Bytes, s.pass)
	if err != nil {
		// The cause is nearly always a wrong passphrase; never echo it.
		return nil, fmt.Errorf("%s: cannot decrypt private key (wrong passphrase?): %w", filepath.Base(path), err)
	}
	return key, nil
}

func writeCert(path string, c *smx509.Certificate) error {
	return writeFileAtomic(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o644)
}

func readCert(path string) (*smx509.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	c, err := smx509.ParseCertificatePEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return c, nil
}

// ReadCertificatesPEM parses every CERTIFICATE block in b.
func ReadCertificatesPEM(b []byte) ([]*smx509.Certificate, error) {
	var out []*smx509.Certificate
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := smx509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM CERTIFICATE found")
	}
	return out, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// DevelopmentWarning is logged on every start with the development CA.
const DevelopmentWarning = "DEVELOPMENT CA IN USE — NOT FOR PRODUCTION: signatures made with it certify nothing; " +
	"create real keys with `ecert keys init` and set " + EnvPassphrase

// OpenDevelopment opens the embedded-default key store in dir, creating a
// development root CA and issuer on first use with a random passphrase kept
// next to the keys (dev.passphrase, mode 0600). It logs DevelopmentWarning
// every time it is called.
func OpenDevelopment(ctx context.Context, dir string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.Default()
	}
	log.Warn(DevelopmentWarning, "key_dir", dir)
	cfg := CAConfig{}.Defaults()
	cfg.RootSubject.CommonName = DevelopmentRootCommonName
	s := &Store{dir: dir, cfg: cfg}
	// Processes started together on a fresh data directory take turns, so
	// exactly one development CA is made and every process signs with it.
	unlock, err := s.lock()
	if err != nil {
		return nil, fmt.Errorf("development key store: %w", err)
	}
	defer unlock()
	if s.pass, err = devPassphrase(filepath.Join(dir, "dev.passphrase")); err != nil {
		return nil, err
	}
	if !s.Exists() {
		if err := s.initLocked(ctx); err != nil {
			return nil, err
		}
		log.Warn("created a development CA", "key_dir", dir)
	}
	return s, nil
}

// devPassphrase reads the development store's passphrase, creating a
// random one on first use.
func devPassphrase(path string) ([]byte, error) {
	pass, err := os.ReadFile(path)
	if err == nil {
		return pass, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read development passphrase: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	pass = []byte(base64.RawURLEncoding.EncodeToString(raw))
	if err := writeFileAtomic(path, pass, 0o600); err != nil {
		return nil, err
	}
	return pass, nil
}

// Open returns the key store for a service, failing closed:
//
//   - keys in keyDir: the production store, unlocked with the passphrase
//     from the environment; a missing, unreadable, empty or wrong
//     passphrase is an error, never a reason to sign with something else;
//   - a passphrase configured but no keys in keyDir: an error (ErrNoKeys);
//   - neither: the development store in devDir (created on first use,
//     warned about on every call).
func Open(ctx context.Context, keyDir, devDir string, log *slog.Logger) (*Store, error) {
	pass, perr := PassphraseFromEnv()
	prod, err := hasKeys(keyDir)
	if err != nil {
		return nil, err
	}
	switch {
	case !prod && errors.Is(perr, ErrNoPassphrase):
		return OpenDevelopment(ctx, devDir, log)
	case prod && errors.Is(perr, ErrNoPassphrase):
		return nil, fmt.Errorf("signing: production keys in %s need their passphrase: set %s or %s", keyDir, EnvPassphrase, EnvPassphraseFile)
	case perr != nil:
		return nil, perr
	case !prod:
		return nil, fmt.Errorf("%w: %s", ErrNoKeys, keyDir)
	}
	s, err := NewStore(keyDir, pass, CAConfig{})
	if err != nil {
		return nil, err
	}
	// Decrypt the signing key now, so a wrong passphrase stops the command
	// before it does anything.
	if _, err := s.Signer(); err != nil {
		return nil, err
	}
	return s, nil
}

// HasKeys reports whether dir holds any part of a key store: a half-made
// or damaged production store is still production, never a place for a
// development CA (or a development portal).
func HasKeys(dir string) (bool, error) { return hasKeys(dir) }

func hasKeys(dir string) (bool, error) {
	for _, name := range []string{"root.pem", "root.key", "current", "issuers"} {
		_, err := os.Stat(filepath.Join(dir, name))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("signing: key store %s: %w", dir, err)
		}
	}
	return false, nil
}
