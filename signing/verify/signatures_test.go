package verify_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/signtest"
	"github.com/ecert/ecert/signing/verify"
)

var startxrefRE = regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`)

// appendSignature adds a signature by s at time at to doc in a new
// incremental update (a signature dictionary, an xref section and a
// trailer), as a second signer's tool would. digest, when set, replaces the
// SM3 of the byte ranges in the CMS.
func appendSignature(t *testing.T, doc []byte, s signing.Signer, at time.Time, digest []byte) []byte {
	t.Helper()
	m := startxrefRE.FindSubmatch(doc)
	if m == nil {
		t.Fatal("no startxref at the end of the document")
	}
	prev, _ := strconv.Atoi(string(m[1]))
	size, err := cms.SignedSize(s, cms.Options{SigningTime: at})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(doc)
	b.WriteString("\n")
	obj := b.Len()
	b.WriteString("900 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange [")
	brAt := b.Len()
	b.WriteString(strings.Repeat(" ", 40) + "] /Contents ")
	gap := b.Len()
	b.WriteString("<" + strings.Repeat("0", 2*size) + ">")
	gapEnd := b.Len()
	b.WriteString(" >>\nendobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n900 1\n%010d 00000 n \ntrailer\n<< /Size 901 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", obj, prev, xref)
	out := b.Bytes()
	br := fmt.Sprintf("0 %d %d %d", gap, gapEnd, len(out)-gapEnd)
	copy(out[brAt:], br)
	if digest == nil {
		digest = signing.SM3Ranges(out[:gap], out[gapEnd:])
	}
	der, err := cms.SignDetached(context.Background(), s, digest, cms.Options{SigningTime: at})
	if err != nil {
		t.Fatal(err)
	}
	hex.Encode(out[gap+1:], der)
	return out
}

func TestEverySignatureOfAPDF(t *testing.T) {
	f := newFixture(t)
	other := signtest.NewCA(t, signTime)
	first := f.pdf(t, f.ca.Signer, nil)
	later := signTime.Add(time.Minute)
	tests := []struct {
		name   string
		doc    []byte
		failed string // the check that fails, "" when valid
		in     string // what its reason names
	}{
		{"two valid signatures", appendSignature(t, first, f.ca.Signer, later, nil), "", ""},
		{"first signer untrusted, second trusted", appendSignature(t, f.pdf(t, other.Signer, nil), f.ca.Signer, later, nil),
			verify.CheckChain, "signature 1 of 2: certificate"},
		{"second signature's digest wrong", appendSignature(t, first, f.ca.Signer, later, signing.SM3([]byte("other"))),
			verify.CheckIntegrity, "signature 2 of 2: SM3 of the signed byte ranges differs"},
		{"content after the second signature", append(appendSignature(t, first, f.ca.Signer, later, nil), "\n% appended\n"...),
			verify.CheckIntegrity, "signature 2 of 2: byte range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := verify.PDF(tc.doc, f.opts)
			if len(r.Signatures) != 2 || r.Revisions != 3 {
				t.Fatalf("%d signatures in %d revisions, want 2 in 3: %+v", len(r.Signatures), r.Revisions, r.Signatures)
			}
			for i, s := range r.Signatures {
				if s.Index != i+1 || s.Revision != i+2 || s.ByteRange == nil || s.CoversWholeFile == nil {
					t.Errorf("signature %d: index %d, revision %d, byte range %v", i+1, s.Index, s.Revision, s.ByteRange)
				}
			}
			if *r.Signatures[0].CoversWholeFile || !strings.Contains(r.Signatures[0].Covers, "revision 2; not the") {
				t.Errorf("first signature covers %q (whole file %v)", r.Signatures[0].Covers, *r.Signatures[0].CoversWholeFile)
			}
			if tc.failed == "" {
				if !r.OK || !*r.Signatures[1].CoversWholeFile || r.Verdict != verify.VerdictValid {
					t.Fatalf("refused (%s): %+v", r.Verdict, r.Checks)
				}
				if !r.SigningTime.Equal(later) {
					t.Errorf("document signing time %v, want the last signature's %v", r.SigningTime, later)
				}
				return
			}
			wantFail(t, r, tc.failed)
			if c, _ := r.Check(tc.failed); !strings.Contains(c.Reason, tc.in) {
				t.Errorf("%s reason %q does not name %q", tc.failed, c.Reason, tc.in)
			}
		})
	}
}
