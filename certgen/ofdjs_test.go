package certgen

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/ecert/ecert/internal/ofdjs"
)

func TestOFDThroughIndependentReader(t *testing.T) {
	r := defaultRenderer(t)
	for _, name := range []string{"zhang.json", "wang-copy.json"} {
		t.Run(name, func(t *testing.T) {
			c := loadRecord(t, name)
			doc, err := r.OFD(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			res := ofdjs.Open(t, doc, os.Getenv("CERTGEN_OFD_SHOT"))
			if res.Error != "" {
				t.Fatalf("ofd.js: %s", res.Error)
			}
			if res.Pages != 1 {
				t.Errorf("ofd.js shows %d pages, want 1", res.Pages)
			}
			verify, _ := r.VerifyURL(c)
			for _, v := range fieldValues(c, verify) {
				if !strings.Contains(res.Text, v) {
					t.Errorf("ofd.js text lacks %q\n%s", v, res.Text)
				}
			}
		})
	}
}
