package certgen

import (
	"fmt"

	"github.com/skip2/go-qrcode"
)

// MaxClaimQRVersion is the largest QR version a signed claim may need:
// denser codes fail at reception desks and with worn phone cameras.
const MaxClaimQRVersion = 22

// claimAlphabet is the QR alphanumeric set: base45's alphabet, so the
// claim is encoded in alphanumeric mode (5.5 bits a character).
const claimAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"

// maxClaimLen is the alphanumeric capacity of version 22 at level Q.
const maxClaimLen = 823

// checkClaim refuses a claim that is not one alphanumeric QR segment.
func checkClaim(claim string) error {
	if len(claim) > maxClaimLen {
		return invalid("claim", "%d characters, more than a version %d QR code holds at level Q", len(claim), MaxClaimQRVersion)
	}
	for i := 0; i < len(claim); i++ {
		if !isClaimChar(claim[i]) {
			return invalid("claim", "character %d is outside the QR alphanumeric set", i)
		}
	}
	return nil
}

func isClaimChar(b byte) bool {
	for i := 0; i < len(claimAlphabet); i++ {
		if claimAlphabet[i] == b {
			return true
		}
	}
	return false
}

// claimModules encodes the claim as a QR code at error correction Q
// (25 % of the symbol can be lost: a fold, a stamp, a glare) and returns
// its modules including the 4-module quiet zone, true = dark.
func claimModules(claim string) ([][]bool, error) {
	q, err := qrcode.New(claim, qrcode.High) // go-qrcode's High is level Q
	if err != nil {
		return nil, fmt.Errorf("certgen: claim QR code: %w", err)
	}
	if q.VersionNumber > MaxClaimQRVersion {
		return nil, fmt.Errorf("%w: the claim needs QR version %d, at most %d is printed", ErrInvalid, q.VersionNumber, MaxClaimQRVersion)
	}
	return q.Bitmap(), nil
}
