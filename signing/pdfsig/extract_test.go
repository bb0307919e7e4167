package pdfsig_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ecert/ecert/signing/pdfsig"
	"github.com/ecert/ecert/signing/signtest"
)

func TestExtractAll(t *testing.T) {
	ca := signtest.NewCA(t, signTime)
	_, doc := signed(t, ca, pdfsig.Options{Time: signTime, Rect: [4]float64{1, 1, 60, 60}})
	junk := "\n9 0 obj << /ByteRange [0 5 9 1] /Contents <00> >> endobj\n"
	tests := []struct {
		name           string
		doc            []byte
		sigs, skipped  int
		count          int
		wantErr        string
		wantSkipReason string
	}{
		{"one signature", doc, 1, 0, 1, "", ""},
		{"a malformed /ByteRange is skipped, not a signature", append(append([]byte{}, doc...), junk...), 1, 1, 2, "", "gap is not exactly"},
		{"only a malformed one", []byte("%PDF-1.7" + junk), 0, 0, 0, "gap is not exactly", ""},
		{"none", signtest.PDF(t), 0, 0, 0, pdfsig.ErrNoSignature.Error(), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all, err := pdfsig.ExtractAll(tc.doc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if tc.wantErr == pdfsig.ErrNoSignature.Error() && !errors.Is(err, pdfsig.ErrNoSignature) {
					t.Fatalf("err %v is not ErrNoSignature", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Signatures) != tc.sigs || len(all.Skipped) != tc.skipped || all.Count != tc.count {
				t.Fatalf("%d signatures, %d skipped, count %d; want %d, %d, %d", len(all.Signatures), len(all.Skipped), all.Count, tc.sigs, tc.skipped, tc.count)
			}
			if tc.wantSkipReason != "" && !strings.Contains(all.Skipped[0].Error(), tc.wantSkipReason) {
				t.Errorf("skipped because %v, want %q", all.Skipped[0], tc.wantSkipReason)
			}
			if last := all.Signatures[len(all.Signatures)-1]; last.End() != len(doc) {
				t.Errorf("last signature ends at %d, want %d", last.End(), len(doc))
			}
		})
	}
}
