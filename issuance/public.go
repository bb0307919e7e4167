package issuance

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/signing/verify"
	"github.com/ecert/ecert/storage/registry"
)

// PublicReader is the part of the registry the public status lookup reads.
type PublicReader interface {
	StatusReader
	CertificateByLicenceIDAndCode(ctx context.Context, licenceID, code string) (registry.Certificate, error)
	Person(ctx context.Context, idNumber string) (registration.Person, error)
}

// ErrNoPublicMatch is returned by PublicStatus for an unknown licence
// identifier and for a wrong, missing or malformed verification code alike.
// It wraps ErrNotFound and registry.ErrNotFound.
var ErrNoPublicMatch = fmt.Errorf("issuance: no certificate with this licence identifier and verification code: %w: %w",
	ErrNotFound, registry.ErrNotFound)

// PublicCertificate is what anyone holding a certificate's verification
// code may learn about it: its status and the holder's data masked. It
// never holds the full ID number, the phone number or the code itself.
type PublicCertificate struct {
	Status    verify.Status     `json:"status"`
	LicenceID string            `json:"licence_id"`
	Version   int               `json:"version"`
	IssueDate registration.Date `json:"issue_date"` // China time
	// HolderName is masked: 张*丰, 张*.
	HolderName string `json:"holder_name"`
	// IDNumber is masked to its first and last four characters: 2101**********123X.
	IDNumber       string `json:"id_number"`
	RegistrationNo string `json:"registration_no"`
	// Employer and Specialties are the registration's as they stand today
	// (for a superseded version, those of the registration now).
	Employer    string            `json:"employer"`
	Specialties []PublicSpecialty `json:"specialties"`
	// Copy describes the usage copy named by the lookup, when the registry
	// recorded it for this certificate version.
	Copy *PublicCopy `json:"copy,omitempty"`
}

// PublicSpecialty is one registered specialty with its valid-until.
type PublicSpecialty struct {
	Name       string            `json:"name"`
	ValidUntil registration.Date `json:"valid_until"`
}

// PublicCopy is a usage copy's validity as the public lookup shows it.
type PublicCopy struct {
	ID         string            `json:"id"`
	ValidFrom  registration.Date `json:"valid_from"`
	ValidUntil registration.Date `json:"valid_until"` // last day of usage validity, as printed
	// InValidity: today lies within the copy's usage validity.
	InValidity bool `json:"in_validity"`
}

// PublicStatus answers the public lookup GET /verify/{licence_id}?code=…:
// the status of the certificate version named by licenceID on today (as
// DocumentStatus gives it) and the holder's data masked, only when code is
// the verification code printed on it. The code may be typed in lower case
// or with spaces or hyphens. An unknown identifier and a wrong code give
// ErrNoPublicMatch alike; another error means the registry could not answer.
func PublicStatus(ctx context.Context, reg PublicReader, policy registration.Policy, today registration.Date, licenceID, code string) (PublicCertificate, error) {
	return PublicCopyStatus(ctx, reg, policy, today, licenceID, code, "")
}

// PublicCopyStatus is PublicStatus for the QR link of a usage copy
// (…?code=…&copy=…): with copyID it also says whether the registry
// recorded that copy of this version (Status.CopyKnown) and its validity.
func PublicCopyStatus(ctx context.Context, reg PublicReader, policy registration.Policy, today registration.Date, licenceID, code, copyID string) (PublicCertificate, error) {
	c, err := reg.CertificateByLicenceIDAndCode(ctx, licenceID, registration.NormalizeVerifyCode(code))
	if errors.Is(err, registry.ErrNotFound) {
		return PublicCertificate{}, ErrNoPublicMatch
	}
	if err != nil {
		return PublicCertificate{}, fmt.Errorf("public status: %w", err)
	}
	known := &knownCertificate{StatusReader: reg, c: c}
	st, err := DocumentStatus(ctx, known, policy, today, c.LicenceID, copyID)
	if err != nil {
		return PublicCertificate{}, fmt.Errorf("public status of %s: %w", c.LicenceID, err)
	}
	r, err := known.Registration(ctx, c.RegistrationNo)
	if err != nil {
		return PublicCertificate{}, fmt.Errorf("public status of %s: registration: %w", c.LicenceID, err)
	}
	p, err := reg.Person(ctx, c.IDNumber)
	if err != nil {
		return PublicCertificate{}, fmt.Errorf("public status of %s: holder: %w", c.LicenceID, err)
	}
	out := PublicCertificate{
		Status: st, LicenceID: c.LicenceID, Version: c.Version, IssueDate: registration.Today(c.IssuedAt),
		HolderName: registration.MaskName(p.Name), IDNumber: registration.MaskIDPublic(c.IDNumber),
		RegistrationNo: r.Number, Employer: r.Employer.Name,
		Specialties: make([]PublicSpecialty, 0, len(r.Specialties)),
	}
	for _, sp := range r.Specialties {
		out.Specialties = append(out.Specialties, PublicSpecialty{Name: sp.Name, ValidUntil: sp.ValidUntil})
	}
	if u := known.copy; st.CopyKnown != nil && *st.CopyKnown && u != nil {
		from, last := registration.Today(u.ValidFrom), registration.Today(u.ValidUntil.Add(-time.Nanosecond))
		out.Copy = &PublicCopy{ID: u.CopyID, ValidFrom: from, ValidUntil: last,
			InValidity: !today.Before(from) && !today.After(last)}
	}
	return out, nil
}

// knownCertificate hands DocumentStatus the certificate the code lookup
// found and keeps the registration and copy it reads, so the public lookup
// reads each row once.
type knownCertificate struct {
	StatusReader
	c    registry.Certificate
	reg  *registration.Registration
	copy *registry.UsageCopy
}

func (k *knownCertificate) CertificateByLicenceID(ctx context.Context, licenceID string) (registry.Certificate, error) {
	if licenceID == k.c.LicenceID {
		return k.c, nil
	}
	return k.StatusReader.CertificateByLicenceID(ctx, licenceID)
}

func (k *knownCertificate) Registration(ctx context.Context, number string) (registration.Registration, error) {
	if k.reg != nil && k.reg.Number == number {
		return *k.reg, nil
	}
	r, err := k.StatusReader.Registration(ctx, number)
	if err == nil {
		k.reg = &r
	}
	return r, err
}

func (k *knownCertificate) UsageCopyByID(ctx context.Context, copyID string) (registry.UsageCopy, error) {
	u, err := k.StatusReader.UsageCopyByID(ctx, copyID)
	if err == nil {
		k.copy = &u
	}
	return u, err
}
