package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
)

// Signer makes SM2-with-SM3 signatures for one certified key. It is the only
// thing the PDF and OFD signers need, so an HSM or a remote signing service
// can replace the in-process key without touching them.
type Signer interface {
	// Public returns the SM2 public key (curve sm2p256v1).
	Public() *ecdsa.PublicKey
	// Sign returns the DER SEQUENCE{r, s} SM2 signature of SM3(Z ‖ msg),
	// Z computed with DefaultUID. msg is the message, not a digest.
	Sign(ctx context.Context, msg []byte) ([]byte, error)
	// Chain returns the signer certificate first, then its issuers up to
	// (and including) the root.
	Chain() []*smx509.Certificate
}

// KeySigner is a Signer over an in-process SM2 private key, using the
// constant-time SM2 of github.com/emmansun/gmsm.
type KeySigner struct {
	key   *sm2.PrivateKey
	chain []*smx509.Certificate
	rand  io.Reader
}

// NewKeySigner returns a Signer for key certified by chain[0]. It checks that
// the certificate holds key's public half.
func NewKeySigner(key *sm2.PrivateKey, chain []*smx509.Certificate) (*KeySigner, error) {
	if key == nil {
		return nil, errors.New("signing: nil private key")
	}
	if len(chain) > 0 {
		pub, ok := chain[0].PublicKey.(*ecdsa.PublicKey)
		if !ok || !pub.Equal(&key.PublicKey) {
			return nil, errors.New("signing: certificate does not match the private key")
		}
	}
	return &KeySigner{key: key, chain: chain, rand: rand.Reader}, nil
}

// Public implements Signer.
func (s *KeySigner) Public() *ecdsa.PublicKey { return &s.key.PublicKey }

// Chain implements Signer.
func (s *KeySigner) Chain() []*smx509.Certificate { return s.chain }

// Sign implements Signer.
func (s *KeySigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sig, err := s.key.Sign(s.rand, msg, sm2.NewSM2SignerOption(true, DefaultUID))
	if err != nil {
		return nil, fmt.Errorf("sm2 sign: %w", err)
	}
	return sig, nil
}

// TjfocSigner is a Signer over github.com/tjfoc/gmsm's SM2 (math/big, not
// constant time, several times slower). It exists to compare the two
// libraries behind the same interface; production uses KeySigner.
type TjfocSigner struct {
	key   *tjsm2.PrivateKey
	pub   *ecdsa.PublicKey
	chain []*smx509.Certificate
}

// NewTjfocSigner converts key to tjfoc's representation.
func NewTjfocSigner(key *sm2.PrivateKey, chain []*smx509.Certificate) *TjfocSigner {
	tk := &tjsm2.PrivateKey{D: new(big.Int).Set(key.D)}
	tk.Curve = tjsm2.P256Sm2()
	tk.X, tk.Y = new(big.Int).Set(key.X), new(big.Int).Set(key.Y)
	return &TjfocSigner{key: tk, pub: &key.PublicKey, chain: chain}
}

// Public implements Signer.
func (s *TjfocSigner) Public() *ecdsa.PublicKey { return s.pub }

// Chain implements Signer.
func (s *TjfocSigner) Chain() []*smx509.Certificate { return s.chain }

// Sign implements Signer.
func (s *TjfocSigner) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, ss, err := tjsm2.Sm2Sign(s.key, msg, DefaultUID, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sm2 sign (tjfoc): %w", err)
	}
	return tjsm2.SignDigitToSignData(r, ss)
}

// cryptoSigner adapts a Signer to crypto.Signer for certificate issuance
// with smx509.CreateCertificate, which passes the raw TBS bytes together with
// an sm2.SM2SignerOption.
type cryptoSigner struct {
	ctx context.Context
	s   Signer
}

func (c cryptoSigner) Public() crypto.PublicKey { return c.s.Public() }

func (c cryptoSigner) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	o, ok := opts.(*sm2.SM2SignerOption)
	if !ok || !o.ForceGMSign {
		return nil, errors.New("signing: only SM2-with-SM3 over the raw message is supported")
	}
	return c.s.Sign(c.ctx, msg)
}
