package issuance

import (
	"context"
	"fmt"
	"strconv"

	"github.com/ecert/ecert/certgen"
	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/claim"
	"github.com/ecert/ecert/storage/registry"
)

// signClaim puts the signed QR claim of doc (version, status entry ref,
// signed now) on doc: verifiable offline with the issuer's certificate.
func (s *Service) signClaim(ctx context.Context, doc *certgen.Certificate, version int, ref registry.StatusRef) error {
	c := claim.Claim{
		IssuedAt:       s.cfg.Clock(),
		LicenceID:      doc.LicenceID,
		Version:        version,
		HolderName:     doc.HolderName,
		MaskedID:       registration.MaskID(doc.IDNumber),
		RegistrationNo: doc.RegistrationNo,
		IssueDate:      doc.IssueDate,
	}
	for _, sp := range doc.Specialties {
		c.Specialties = append(c.Specialties, claim.Specialty{Name: sp.Name, ValidUntil: sp.ValidUntil})
	}
	if cp := doc.Copy; cp != nil {
		c.Copy = &claim.UsageCopy{ID: cp.Serial, Purpose: cp.Purpose, ValidFrom: cp.ValidFrom, ValidUntil: cp.ValidUntil}
	}
	if !ref.IsZero() {
		c.Status = &claim.StatusRef{List: strconv.FormatInt(ref.List, 10), Index: uint64(ref.Index)}
	}
	enc, err := claim.Encode(ctx, s.sig, s.sig.Chain()[0], c)
	if err != nil {
		return fmt.Errorf("QR claim of %s: %w", doc.LicenceID, err)
	}
	doc.Claim = enc
	return nil
}
