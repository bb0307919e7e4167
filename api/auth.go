package api

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/golang-jwt/jwt/v5"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing"
)

// AlgSM2SM3 is the JWS "alg" of SM2 signatures over SM3 (GB/T 32918.2 with
// the default user id 1234567812345678). The signature is r‖s, 32 bytes
// each, big-endian, as ES256 encodes ECDSA in JWS (RFC 7518 §3.4).
const AlgSM2SM3 = "SM2SM3"

// SigningMethodSM2SM3 is the SM2-with-SM3 JWT signing method; it is
// registered with jwt under AlgSM2SM3.
var SigningMethodSM2SM3 jwt.SigningMethod = signingMethodSM2{}

func init() {
	jwt.RegisterSigningMethod(AlgSM2SM3, func() jwt.SigningMethod { return SigningMethodSM2SM3 })
}

type signingMethodSM2 struct{}

func (signingMethodSM2) Alg() string { return AlgSM2SM3 }

// Verify accepts only a 64-byte r‖s signature by an SM2 public key.
func (signingMethodSM2) Verify(signingString string, sig []byte, key any) error {
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok || !sm2.IsSM2PublicKey(pub) {
		return jwt.ErrInvalidKeyType
	}
	if len(sig) != 64 {
		return jwt.ErrSignatureInvalid
	}
	der, err := asn1.Marshal(struct{ R, S *big.Int }{
		new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]),
	})
	if err != nil {
		return jwt.ErrSignatureInvalid
	}
	if !sm2.VerifyASN1WithSM2(pub, signing.DefaultUID, []byte(signingString), der) {
		return jwt.ErrSignatureInvalid
	}
	return nil
}

// Sign signs with an *sm2.PrivateKey and returns r‖s.
func (signingMethodSM2) Sign(signingString string, key any) ([]byte, error) {
	priv, ok := key.(*sm2.PrivateKey)
	if !ok {
		return nil, jwt.ErrInvalidKeyType
	}
	der, err := sm2.SignASN1(rand.Reader, priv, []byte(signingString), sm2.NewSM2SignerOption(true, signing.DefaultUID))
	if err != nil {
		return nil, err
	}
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("sm2 signature: %v", err)
	}
	out := make([]byte, 64)
	rs.R.FillBytes(out[:32])
	rs.S.FillBytes(out[32:])
	return out, nil
}

// Account types of the "typ" claim.
const (
	AccountPerson     = "person"
	AccountEnterprise = "enterprise"
)

// Claims are the applicant token's claims. The subject is the holder's
// resident ID number; typ says whether the portal account is a natural
// person or an enterprise.
type Claims struct {
	jwt.RegisteredClaims
	Type string `json:"typ"`
	Name string `json:"name,omitempty"`
}

// TokenConfig configures applicant token verification.
type TokenConfig struct {
	// PublicKeysPEM holds the portal's public keys ("PUBLIC KEY" or
	// "CERTIFICATE" blocks). An SM2 key accepts SM2SM3 tokens only, a P-256
	// key ES256 only: the key pins the algorithm.
	PublicKeysPEM []byte
	Issuer        string // required "iss"
	Audience      string // required in "aud"
	// Leeway is the clock skew allowed on exp and nbf (default 30 s, at most 60 s).
	Leeway time.Duration
	// MaxLifetime refuses tokens whose exp is further away than this
	// (default 12 h): the portal's tokens are short-lived.
	MaxLifetime time.Duration
}

type tokenVerifier struct {
	cfg    TokenConfig
	keys   map[string][]jwt.VerificationKey // by alg
	parser *jwt.Parser
	now    func() time.Time
	seen   verifiedTokens
}

// verifiedTokens remembers tokens whose signature and claims were already
// verified, by the SHA-256 of the token, so an applicant's repeated requests
// cost one SM2 verification, not one each. An entry is used only while its
// token is unexpired; the table is bounded and cleared when full.
type verifiedTokens struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]Claims
}

// maxVerifiedTokens bounds the table of verified tokens.
const maxVerifiedTokens = 10000

func (v *verifiedTokens) get(key [sha256.Size]byte, now time.Time, leeway time.Duration) (Claims, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	cl, ok := v.m[key]
	if !ok {
		return Claims{}, false
	}
	if !now.Before(cl.ExpiresAt.Time.Add(leeway)) {
		delete(v.m, key)
		return Claims{}, false
	}
	return cl, true
}

func (v *verifiedTokens) put(key [sha256.Size]byte, cl Claims) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil || len(v.m) >= maxVerifiedTokens {
		v.m = make(map[[sha256.Size]byte]Claims)
	}
	v.m[key] = cl
}

// maxLeeway bounds the configurable clock skew.
const maxLeeway = 60 * time.Second

func newTokenVerifier(cfg TokenConfig, now func() time.Time) (*tokenVerifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("api: Tokens.Issuer and Tokens.Audience are required")
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = 30 * time.Second
	case cfg.Leeway < 0 || cfg.Leeway > maxLeeway:
		return nil, fmt.Errorf("api: Tokens.Leeway %s: want 0 to %s", cfg.Leeway, maxLeeway)
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = 12 * time.Hour
	}
	keys, err := ParsePortalKeys(cfg.PublicKeysPEM)
	if err != nil {
		return nil, err
	}
	tv := &tokenVerifier{cfg: cfg, keys: map[string][]jwt.VerificationKey{}, now: now}
	var algs []string
	for _, k := range keys {
		alg, err := algFor(k)
		if err != nil {
			return nil, err
		}
		if tv.keys[alg] == nil {
			algs = append(algs, alg)
		}
		tv.keys[alg] = append(tv.keys[alg], k)
	}
	tv.parser = jwt.NewParser(
		jwt.WithValidMethods(algs), jwt.WithIssuer(cfg.Issuer), jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(), jwt.WithLeeway(cfg.Leeway), jwt.WithTimeFunc(now),
	)
	return tv, nil
}

// ParsePortalKeys reads every public key of PEM data: PUBLIC KEY blocks
// (PKIX, SM2 or P-256) and CERTIFICATE blocks.
func ParsePortalKeys(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "PUBLIC KEY":
			k, err := smx509.ParsePKIXPublicKey(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("api: portal public key: %w", err)
			}
			keys = append(keys, k)
		case "CERTIFICATE":
			c, err := smx509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("api: portal certificate: %w", err)
			}
			keys = append(keys, c.PublicKey)
		default:
			return nil, fmt.Errorf("api: portal key PEM block %q: want PUBLIC KEY or CERTIFICATE", b.Type)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("api: no portal public key configured (Tokens.PublicKeysPEM)")
	}
	return keys, nil
}

// algFor pins the JWS algorithm a key may verify.
func algFor(k crypto.PublicKey) (string, error) {
	pub, ok := k.(*ecdsa.PublicKey)
	switch {
	case ok && sm2.IsSM2PublicKey(pub):
		return AlgSM2SM3, nil
	case ok && pub.Curve == elliptic.P256():
		return jwt.SigningMethodES256.Alg(), nil
	}
	return "", fmt.Errorf("api: portal key of type %T: want an SM2 or P-256 public key", k)
}

// Token verification failures.
var (
	errTokenMissing    = errors.New("bearer token missing")
	errTokenInvalid    = errors.New("bearer token invalid")
	errTokenEnterprise = errors.New("enterprise account")
)

// verify parses a bearer token and returns the holder's ID number. The
// returned errors never contain the token.
func (tv *tokenVerifier) verify(raw string) (Claims, error) {
	key := sha256.Sum256([]byte(raw))
	if cl, ok := tv.seen.get(key, tv.now(), tv.cfg.Leeway); ok {
		return cl, nil
	}
	cl, err := tv.verifyFully(raw)
	if err == nil {
		tv.seen.put(key, cl)
	}
	return cl, err
}

// verifyFully checks a token's signature and every claim.
func (tv *tokenVerifier) verifyFully(raw string) (Claims, error) {
	var cl Claims
	tok, err := tv.parser.ParseWithClaims(raw, &cl, func(t *jwt.Token) (any, error) {
		ks := tv.keys[t.Method.Alg()]
		if len(ks) == 0 {
			return nil, jwt.ErrTokenUnverifiable
		}
		return jwt.VerificationKeySet{Keys: ks}, nil
	})
	if err != nil || !tok.Valid {
		return Claims{}, fmt.Errorf("%w: %s", errTokenInvalid, reasonOf(err))
	}
	if exp := cl.ExpiresAt.Time; exp.Sub(tv.now()) > tv.cfg.MaxLifetime+tv.cfg.Leeway {
		return Claims{}, fmt.Errorf("%w: lifetime longer than %s", errTokenInvalid, tv.cfg.MaxLifetime)
	}
	switch cl.Type {
	case AccountPerson:
	case AccountEnterprise:
		return Claims{}, errTokenEnterprise
	default:
		return Claims{}, fmt.Errorf("%w: typ claim must be %q or %q", errTokenInvalid, AccountPerson, AccountEnterprise)
	}
	id, err := registration.ParseIDNumber(cl.Subject)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: subject is not a resident ID number", errTokenInvalid)
	}
	cl.Subject = id.String()
	return cl, nil
}

// reasonOf names why jwt refused a token without quoting it.
func reasonOf(err error) string {
	for _, e := range []error{
		jwt.ErrTokenExpired, jwt.ErrTokenNotValidYet, jwt.ErrTokenInvalidAudience,
		jwt.ErrTokenInvalidIssuer, jwt.ErrTokenSignatureInvalid, jwt.ErrTokenUnverifiable,
		jwt.ErrTokenRequiredClaimMissing, jwt.ErrTokenMalformed, jwt.ErrTokenUsedBeforeIssued,
	} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(e.Error(), "token ")
		}
	}
	return "not verifiable"
}

// DevToken describes a development token.
type DevToken struct {
	Holder     string // ID number (subject)
	Name       string // optional holder name
	Enterprise bool   // typ "enterprise" instead of "person"
	Issuer     string
	Audience   string
	TTL        time.Duration // default 1 h
	Now        time.Time     // default time.Now()
}

// MintDevToken signs a token with a portal private key: an *sm2.PrivateKey
// (SM2SM3) or a P-256 *ecdsa.PrivateKey (ES256). It is for development and
// tests; production tokens come from the portal.
func MintDevToken(key crypto.Signer, t DevToken) (string, error) {
	var m jwt.SigningMethod
	switch k := key.(type) {
	case *sm2.PrivateKey:
		m = SigningMethodSM2SM3
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("api: dev token key: want SM2 or P-256")
		}
		m = jwt.SigningMethodES256
	default:
		return "", fmt.Errorf("api: dev token key of type %T: want SM2 or P-256", key)
	}
	if t.Now.IsZero() {
		t.Now = time.Now()
	}
	if t.TTL <= 0 {
		t.TTL = time.Hour
	}
	typ := AccountPerson
	if t.Enterprise {
		typ = AccountEnterprise
	}
	cl := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: t.Holder, Issuer: t.Issuer, Audience: jwt.ClaimStrings{t.Audience},
			IssuedAt: jwt.NewNumericDate(t.Now), NotBefore: jwt.NewNumericDate(t.Now),
			ExpiresAt: jwt.NewNumericDate(t.Now.Add(t.TTL)),
		},
		Type: typ, Name: t.Name,
	}
	return jwt.NewWithClaims(m, cl).SignedString(key)
}

// GenerateDevPortalKey makes an SM2 key pair for a development portal and
// returns the private key (PKCS#8 PEM) and its public key (PKIX PEM), the
// form TokenConfig.PublicKeysPEM takes.
func GenerateDevPortalKey() (privPEM, pubPEM []byte, err error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	der, err := smx509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := smx509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), nil
}

// ParsePortalPrivateKey reads a PKCS#8 PEM private key (SM2 or P-256) for
// MintDevToken.
func ParsePortalPrivateKey(data []byte) (crypto.Signer, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("api: portal private key: want a PKCS#8 PRIVATE KEY PEM block")
	}
	k, err := smx509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("api: portal private key: %w", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("api: portal private key of type %T", k)
	}
	return s, nil
}
