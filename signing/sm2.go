package signing

import (
	"crypto/ecdsa"
	"encoding/asn1"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// DefaultUID is the SM2 signer identity of GM/T 0009 used by every SM2
// signature ecert makes or checks ("1234567812345678"); OpenSSL needs it as
// -pkeyopt distid:1234567812345678.
var DefaultUID = []byte("1234567812345678")

// Object identifiers of the Chinese commercial cryptography algorithms.
var (
	OIDSM2          = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
	OIDSM2Sign      = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1} // GM/T 0010 "sm2-1", bare SM2 signature
	OIDSM3          = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	OIDSM2WithSM3   = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
	OIDGMData       = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 1} // GM/T 0010 data
	OIDGMSignedData = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 2} // GM/T 0010 signedData
)

// SM3 returns the SM3 digest of b.
func SM3(b []byte) []byte {
	h := sm3.Sum(b)
	return h[:]
}

// IsSM2Signature reports whether oid names an SM2 signature algorithm this
// package verifies (SM2-with-SM3 or the bare GM/T 0010 SM2 signature).
func IsSM2Signature(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(OIDSM2WithSM3) || oid.Equal(OIDSM2Sign) || oid.Equal(OIDSM2)
}

// VerifySM2 checks an SM2-with-SM3 signature of msg (the message itself, not
// a digest) made with the default user id. sig may be DER SEQUENCE{r, s} or
// the raw 64-byte r‖s form some producers write.
func VerifySM2(pub *ecdsa.PublicKey, msg, sig []byte) bool {
	if pub == nil || pub.Curve != sm2.P256() || pub.X == nil || pub.Y == nil {
		return false
	}
	if sm2.VerifyASN1WithSM2(pub, DefaultUID, msg, sig) {
		return true
	}
	if len(sig) == 64 {
		der, err := asn1.Marshal(struct{ R, S *big.Int }{
			new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]),
		})
		if err != nil {
			return false
		}
		return sm2.VerifyASN1WithSM2(pub, DefaultUID, msg, der)
	}
	return false
}

// SM3Ranges returns the SM3 digest of the concatenation of parts.
func SM3Ranges(parts ...[]byte) []byte {
	h := sm3.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}
