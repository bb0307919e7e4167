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

// StatusReader is the part of the registry a status lookup reads.
type StatusReader interface {
	CertificateByLicenceID(ctx context.Context, licenceID string) (registry.Certificate, error)
	CurrentCertificate(ctx context.Context, certNo string) (registry.Certificate, error)
	Registration(ctx context.Context, number string) (registration.Registration, error)
	UsageCopyByID(ctx context.Context, copyID string) (registry.UsageCopy, error)
}

// DocumentStatus answers a verifier: is the certificate version named by
// licenceID (for a usage copy, its parent's, with the copy's id) still the
// one in force on today, and is the registration behind it active. A
// licence identifier the registry does not know is StateUnknown, not an
// error; an error means the registry could not answer.
func DocumentStatus(ctx context.Context, reg StatusReader, policy registration.Policy, today registration.Date, licenceID, copyID string) (verify.Status, error) {
	c, err := reg.CertificateByLicenceID(ctx, licenceID)
	if errors.Is(err, registry.ErrNotFound) {
		return verify.Status{Certificate: verify.StateUnknown}, nil
	}
	if err != nil {
		return verify.Status{}, err
	}
	st := verify.Status{Certificate: certState(c.Status), Code: string(c.Status), Detail: c.StatusReason}
	if !c.StatusChangedAt.IsZero() {
		t := c.StatusChangedAt
		st.Since = &t
	}
	if st.Certificate == verify.StateSuperseded {
		cur, err := reg.CurrentCertificate(ctx, c.CertificateNo)
		if err != nil {
			return verify.Status{}, fmt.Errorf("current version of %s: %w", c.CertificateNo, err)
		}
		st.CurrentLicenceID = cur.LicenceID
	}
	if copyID != "" {
		u, err := reg.UsageCopyByID(ctx, copyID)
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			return verify.Status{}, err
		}
		known := err == nil && u.CertificateNo == c.CertificateNo && u.Version == c.Version
		st.CopyKnown = &known
	}
	r, err := reg.Registration(ctx, c.RegistrationNo)
	if err != nil {
		return verify.Status{}, fmt.Errorf("registration of %s: %w", c.CertificateNo, err)
	}
	end := registration.EffectiveValidUntil(r, policy.Extensions)
	st.RegistrationValidUntil = end.String()
	switch {
	case r.Status == registration.RegistrationCancelled:
		st.Registration = verify.RegistrationCancelled
		st.RegistrationCancelled = r.CancelledOn.String()
	case today.After(end):
		st.Registration = verify.RegistrationExpired
	default:
		st.Registration = verify.RegistrationActive
	}
	return st, nil
}

// StatusLookup is the verifier's status check backed by reg: DocumentStatus
// as of today (China time) at each call.
func StatusLookup(ctx context.Context, reg StatusReader, policy registration.Policy) verify.StatusFunc {
	return func(licenceID, copyID string) (verify.Status, error) {
		return DocumentStatus(ctx, reg, policy, registration.Today(time.Now()), licenceID, copyID)
	}
}

// certState maps a national status code to a verifier's word.
func certState(s registration.CertStatus) string {
	switch s {
	case registration.CertValid:
		return verify.StateCurrent
	case registration.CertLapsed:
		return verify.StateSuperseded
	case registration.CertCancelled:
		return verify.StateCancelled
	case registration.CertSuspended:
		return verify.StateSuspended
	default: // 03 撤销, 07 吊销, 99
		return verify.StateRevoked
	}
}
