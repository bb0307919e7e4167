package verify

import (
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// SignatureReport is the verdict on one signature of a document: what it
// covers and its own checks.
type SignatureReport struct {
	// Index counts signatures from 1 in signing order.
	Index int `json:"index"`
	// ByteRange is a PDF signature's /ByteRange.
	ByteRange *[4]int `json:"byte_range,omitempty"`
	// Revision is the PDF revision the signature signs (1 is the original
	// file): the number of %%EOF markers its byte range takes in.
	Revision int `json:"revision,omitempty"`
	// CoversWholeFile tells whether a PDF signature's byte range runs to the
	// end of the file as it is.
	CoversWholeFile *bool `json:"covers_whole_file,omitempty"`
	// Covers says in words what the signature covers.
	Covers string `json:"covers"`
	// ID is an OFD signature's ID in Signatures.xml, File its Signature.xml
	// and Files the package files its references list, in their order.
	ID    string   `json:"id,omitempty"`
	File  string   `json:"file,omitempty"`
	Files []string `json:"files,omitempty"`
	// Seal is the name of an OFD signature's electronic seal.
	Seal        string     `json:"seal,omitempty"`
	SubFilter   string     `json:"sub_filter,omitempty"`
	Signer      string     `json:"signer,omitempty"`
	SignerSN    string     `json:"signer_serial,omitempty"`
	SigningTime *time.Time `json:"signing_time,omitempty"`
	// Trust is the root this signer's chain ended in.
	Trust  *Trust  `json:"trust,omitempty"`
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`

	// cert is the signer certificate, when the signature could be read.
	cert *smx509.Certificate
}

func (s *SignatureReport) add(name string, err error, okReason string) {
	s.Checks = append(s.Checks, newCheck(name, err, okReason))
}

func (s *SignatureReport) check(name string) (Check, bool) {
	for _, c := range s.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// addAggregate adds to r the check name as the conjunction of that check
// over sigs: with one signature its reason as it is, with several each
// signature's reason prefixed with its index.
func (r *Report) addAggregate(name string, sigs []SignatureReport) {
	var failed, passed []string
	status := StatusPass
	for _, s := range sigs {
		c, ok := s.check(name)
		if !ok {
			continue
		}
		line := c.Reason
		if len(sigs) > 1 {
			line = fmt.Sprintf("signature %d of %d: %s", s.Index, len(sigs), c.Reason)
		}
		if c.OK {
			passed = append(passed, line)
			continue
		}
		failed = append(failed, line)
		if status == StatusPass || c.Status == StatusFail {
			status = c.Status
		}
	}
	if len(failed) == 0 {
		r.add(name, nil, strings.Join(passed, "; "))
		return
	}
	r.Checks = append(r.Checks, Check{Name: name, Reason: strings.Join(failed, "; "), Status: status})
}
