package signing

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// CAConfig names the certificate authority and says how long its
// certificates live. The zero value is usable: Defaults fills every field.
type CAConfig struct {
	// RootSubject is the root CA's distinguished name.
	RootSubject pkix.Name
	// AuthoritySubject is the issuing authority's distinguished name, whose
	// common name is the authority's Chinese name.
	AuthoritySubject pkix.Name
	// RootValidity and IssuerValidity are the certificate lifetimes.
	RootValidity, IssuerValidity time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultAuthorityName is the issuing authority of the embedded default.
const DefaultAuthorityName = "辽宁省住房和城乡建设厅"

// Defaults returns c with every empty field set to a working default.
func (c CAConfig) Defaults() CAConfig {
	if c.RootSubject.CommonName == "" {
		c.RootSubject = pkix.Name{CommonName: "ecert 电子证照根证书", Organization: []string{DefaultAuthorityName}, Country: []string{"CN"}}
	}
	if c.AuthoritySubject.CommonName == "" {
		c.AuthoritySubject = pkix.Name{
			CommonName:         DefaultAuthorityName,
			Organization:       []string{DefaultAuthorityName},
			OrganizationalUnit: []string{"建设工程注册证书签发"},
			Province:           []string{"辽宁省"},
			Country:            []string{"CN"},
		}
	}
	if c.RootValidity <= 0 {
		c.RootValidity = 20 * 365 * 24 * time.Hour
	}
	if c.IssuerValidity <= 0 {
		c.IssuerValidity = 5 * 365 * 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func serialNumber() (*big.Int, error) {
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return sn.Add(sn, big.NewInt(1)), nil
}

// NewRootCA generates an SM2 key and a self-signed root CA certificate
// (SM2-with-SM3, keyCertSign + cRLSign, CA:TRUE, path length 1).
func NewRootCA(cfg CAConfig) (*sm2.PrivateKey, *smx509.Certificate, error) {
	cfg = cfg.Defaults()
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate root key: %w", err)
	}
	sn, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               cfg.RootSubject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(cfg.RootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create root certificate: %w", err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse root certificate: %w", err)
	}
	return key, cert, nil
}

// IssueAuthorityCertificate generates a new SM2 key for the issuing authority
// and certifies it with root (whose certificate is root.Chain()[0]): an
// end-entity certificate with digitalSignature + contentCommitment
// (non-repudiation), valid for cfg.IssuerValidity but never beyond the root.
func IssueAuthorityCertificate(ctx context.Context, root Signer, cfg CAConfig) (*sm2.PrivateKey, *smx509.Certificate, error) {
	cfg = cfg.Defaults()
	return issueEndEntity(ctx, root, cfg, "issuer", func(*smx509.Certificate) pkix.Name { return cfg.AuthoritySubject },
		x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment)
}

// issueEndEntity generates an SM2 key and certifies it with root as an
// end-entity certificate (what names it in errors) with the subject
// subject(root certificate) and usage, valid for cfg.IssuerValidity but
// never beyond the root.
func issueEndEntity(ctx context.Context, root Signer, cfg CAConfig, what string, subject func(parent *smx509.Certificate) pkix.Name, usage x509.KeyUsage) (*sm2.PrivateKey, *smx509.Certificate, error) {
	chain := root.Chain()
	if len(chain) == 0 {
		return nil, nil, fmt.Errorf("issue %s certificate: root signer has no certificate", what)
	}
	parent := chain[0]
	key, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate %s key: %w", what, err)
	}
	sn, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	now := cfg.Now().UTC().Truncate(time.Second)
	notAfter := now.Add(cfg.IssuerValidity)
	if notAfter.After(parent.NotAfter) {
		notAfter = parent.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               subject(parent),
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              usage,
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent.ToX509(), &key.PublicKey, cryptoSigner{ctx: ctx, s: root})
	if err != nil {
		return nil, nil, fmt.Errorf("create %s certificate: %w", what, err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s certificate: %w", what, err)
	}
	return key, cert, nil
}

// VerificationServiceUnit is the organizational unit of the verification
// service's certificate (see IssueServiceCertificate). It is the
// certificate's role: the verifier accepts a verification report only from
// a signer whose certificate carries it, and never a certificate from one.
const VerificationServiceUnit = "ecert 核验服务"

// IsVerificationService reports whether c is a verification-service
// certificate (its subject names VerificationServiceUnit). Only the root's
// holder can issue one, so the mark is as strong as the chain it sits on.
func IsVerificationService(c *smx509.Certificate) bool {
	if c == nil {
		return false
	}
	for _, ou := range c.Subject.OrganizationalUnit {
		if ou == VerificationServiceUnit {
			return true
		}
	}
	return false
}

// IssueServiceCertificate generates the verification service's SM2 key and
// certifies it with root: an end-entity certificate with digitalSignature
// only (the service attests what it checked; it commits to no document),
// subject CN and OU VerificationServiceUnit under the root's organization, valid like an issuer
// certificate but never beyond the root. It signs verification reports,
// never certificates.
func IssueServiceCertificate(ctx context.Context, root Signer, cfg CAConfig) (*sm2.PrivateKey, *smx509.Certificate, error) {
	return issueEndEntity(ctx, root, cfg.Defaults(), "service", func(parent *smx509.Certificate) pkix.Name {
		return pkix.Name{
			CommonName:         VerificationServiceUnit,
			Organization:       parent.Subject.Organization,
			OrganizationalUnit: []string{VerificationServiceUnit},
			Country:            parent.Subject.Country,
		}
	}, x509.KeyUsageDigitalSignature)
}
