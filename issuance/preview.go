package issuance

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ecert/ecert/registration"
	"github.com/ecert/ecert/storage/registry"
)

// Preview returns an SVG picture of the current version of the holder's
// certificate certNo, laid out from the same data as the issued files (with
// that version's verification code). It is unsigned and for display only.
// A certificate of someone else is ErrNotFound; before the public notice
// ends it is a *Refusal (notice_not_ended), as the files are.
func (s *Service) Preview(ctx context.Context, holder, certNo string) ([]byte, error) {
	holder = strings.ToUpper(strings.TrimSpace(holder)) // ID numbers are stored upper-case (X)
	cert, err := s.reg.CurrentCertificate(ctx, certNo)
	if errors.Is(err, registry.ErrNotFound) || (err == nil && (holder == "" || cert.IDNumber != holder)) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if today := registration.Today(s.cfg.Clock()); !cert.DownloadableFrom.IsZero() && today.Before(cert.DownloadableFrom) {
		return nil, &Refusal{RefuseNoticeNotEnded, fmt.Sprintf("公示期未结束，%s 起可查看和下载电子证书", cert.DownloadableFrom)}
	}
	a, err := s.reg.CaseApproval(ctx, cert.CaseID)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", cert.CertificateNo, err)
	}
	reg, err := s.reg.Registration(ctx, cert.RegistrationNo)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", cert.CertificateNo, err)
	}
	doc := s.document(&a, &reg, cert.LicenceID, cert.VerifyCode, registration.Today(cert.IssuedAt))
	svg, err := s.rnd.RenderSVG(ctx, doc)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", cert.CertificateNo, err)
	}
	return svg, nil
}
