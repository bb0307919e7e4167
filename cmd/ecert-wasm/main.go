//go:build js && wasm

// Command ecert-wasm is the offline verifier of the /verify page, built for
// the browser (GOOS=js GOARCH=wasm): the same signing/offline code as
// `ecert verify-qr`, so the page and the command cannot disagree. It
// exports two functions on the global object and then waits forever:
//
//	ecertVerifyClaim(text, issuersPEM, rootsPEM, statusListTokensBase64[], nowMillis) → JSON
//	ecertDecodeQR(rgba Uint8Array|Uint8ClampedArray, width, height) → [text, …]
//
// It never does I/O: the page fetches and caches what it passes in.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"slices"
	"strings"
	"syscall/js"
	"time"

	smx509 "github.com/emmansun/gmsm/smx509"
	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode"
	xdraw "golang.org/x/image/draw"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/claim"
	"github.com/ecert/ecert/signing/cose"
	"github.com/ecert/ecert/signing/offline"
	"github.com/ecert/ecert/signing/statuslist"
)

// Limits on what the page passes in.
const (
	maxPEM       = 1 << 20
	maxLists     = 16
	maxListBytes = 4 << 20
	// maxPixels bounds a decoded image (a phone photo is about 12 MP).
	maxPixels = 40 << 20
	// maxScaled bounds a region enlarged for a second try.
	maxScaled = 12 << 20
)

// result is offline.Report with what could not be used.
type result struct {
	*offline.Report
	// Problems name inputs that were refused (a bad PEM, a list whose
	// signature does not verify), so the page can say why a list was not used.
	Problems []string `json:"problems,omitempty"`
}

func main() {
	js.Global().Set("ecertVerifyClaim", js.FuncOf(verifyClaim))
	js.Global().Set("ecertDecodeQR", js.FuncOf(decodeQR))
	select {}
}

// verifyClaim is ecertVerifyClaim; it returns the JSON text of a result.
func verifyClaim(_ js.Value, args []js.Value) (ret any) {
	defer func() {
		if p := recover(); p != nil {
			ret = errorJSON(fmt.Sprintf("internal error: %v", p))
		}
	}()
	if len(args) != 5 {
		return errorJSON("ecertVerifyClaim wants 5 arguments")
	}
	r := verify(args[0].String(), args[1].String(), args[2].String(), stringsOf(args[3]), time.UnixMilli(int64(args[4].Float())))
	b, err := json.Marshal(r)
	if err != nil {
		return errorJSON(err.Error())
	}
	return string(b)
}

func errorJSON(msg string) string {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return string(b)
}

func stringsOf(v js.Value) []string {
	if v.Type() != js.TypeObject {
		return nil
	}
	n := min(v.Length(), maxLists)
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, v.Index(i).String())
	}
	return out
}

// verify runs offline.Verify with the issuers, roots and status lists given.
func verify(text, issuersPEM, rootsPEM string, lists []string, now time.Time) *result {
	r := &result{}
	issuers := readPEM("issuers", issuersPEM, &r.Problems)
	roots := readPEM("roots", rootsPEM, &r.Problems)
	var toks []*statuslist.Token
	for i, s := range lists {
		b, err := base64.StdEncoding.DecodeString(s)
		if err == nil && len(b) > maxListBytes {
			err = fmt.Errorf("larger than %d bytes", maxListBytes)
		}
		var t *statuslist.Token
		if err == nil {
			t, err = statuslist.Parse(b, issuerKey(issuers))
		}
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("status list %d: %v", i+1, err))
			continue
		}
		toks = append(toks, t)
	}
	r.Report = offline.Verify(strings.TrimSpace(text), offline.Options{Issuers: issuers, Roots: roots, Lists: toks, Now: now})
	return r
}

func readPEM(what, s string, problems *[]string) []*smx509.Certificate {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	if len(s) > maxPEM {
		*problems = append(*problems, fmt.Sprintf("%s: larger than %d bytes", what, maxPEM))
		return nil
	}
	certs, err := signing.ReadCertificatesPEM([]byte(s))
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("%s: %v", what, err))
	}
	return certs
}

// issuerKey finds the key of a status list's kid among the issuers, as
// `ecert verify-qr` does.
func issuerKey(issuers []*smx509.Certificate) func(kid []byte) (*ecdsa.PublicKey, error) {
	return func(kid []byte) (*ecdsa.PublicKey, error) {
		for _, c := range issuers {
			if pub, ok := c.PublicKey.(*ecdsa.PublicKey); ok && bytes.Equal(cose.KeyID(c), kid) {
				return pub, nil
			}
		}
		return nil, fmt.Errorf("signed by an unknown key %x", kid)
	}
}

// decodeQR is ecertDecodeQR: the texts of the QR codes found in an RGBA
// image that start with claim.Prefix (other codes on the page, such as
// the verification link, are left out). It returns an array of strings,
// or an object {error} when the pixels are not an image.
func decodeQR(_ js.Value, args []js.Value) (ret any) {
	defer func() {
		if p := recover(); p != nil {
			ret = js.ValueOf(map[string]any{"error": fmt.Sprintf("internal error: %v", p)})
		}
	}()
	if len(args) != 3 {
		return js.ValueOf(map[string]any{"error": "ecertDecodeQR wants 3 arguments"})
	}
	w, h := args[1].Int(), args[2].Int()
	if w <= 0 || h <= 0 || w*h > maxPixels || args[0].Length() != w*h*4 {
		return js.ValueOf(map[string]any{"error": fmt.Sprintf("not a %dx%d RGBA image", w, h)})
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	js.CopyBytesToGo(img.Pix, args[0])
	texts := claimsIn(img)
	out := make([]any, len(texts))
	for i, t := range texts {
		out[i] = t
	}
	return js.ValueOf(out)
}

// claimsIn decodes every QR code in img and keeps the claims: first the
// multi-code reader on the whole image; if it finds no claim (a dense
// version-18 code at 150 dpi has under 3 pixels a module, and the
// detector misjudges its size), each quadrant and half, enlarged 2 to 4
// times with bilinear interpolation, under both binarizers (the global
// histogram one first: it reads the enlarged dense code).
func claimsIn(img *image.RGBA) []string {
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	var out []string
	keep := func(s string) {
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, claim.Prefix) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if bmp, err := gozxing.NewBinaryBitmapFromImage(img); err == nil {
		if rs, err := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints); err == nil {
			for _, r := range rs {
				keep(r.GetText())
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var regions []image.Rectangle
	for _, q := range [][4]int{{1, 1, 2, 2}, {0, 1, 1, 2}, {1, 0, 2, 1}, {0, 0, 1, 1}, {1, 0, 2, 2}, {0, 1, 2, 2}, {0, 0, 2, 2}} {
		regions = append(regions, image.Rect(b.Min.X+q[0]*w/2, b.Min.Y+q[1]*h/2, b.Min.X+q[2]*w/2, b.Min.Y+q[3]*h/2))
	}
	// The claim's code is printed bottom right: that quadrant comes first.
	for _, r := range regions {
		for _, k := range []int{1, 4, 3, 2} {
			if r.Dx()*r.Dy()*k*k > maxScaled {
				continue
			}
			var src image.Image = img.SubImage(r)
			if k > 1 {
				big := image.NewRGBA(image.Rect(0, 0, r.Dx()*k, r.Dy()*k))
				xdraw.BiLinear.Scale(big, big.Bounds(), img, r, xdraw.Src, nil)
				src = big
			}
			lum := gozxing.NewLuminanceSourceFromImage(src)
			for _, bin := range []gozxing.Binarizer{gozxing.NewGlobalHistgramBinarizer(lum), gozxing.NewHybridBinarizer(lum)} {
				bmp, err := gozxing.NewBinaryBitmap(bin)
				if err != nil {
					continue
				}
				if res, err := qrcode.NewQRCodeReader().Decode(bmp, hints); err == nil {
					keep(res.GetText())
				}
			}
			if len(out) > 0 {
				return out
			}
		}
	}
	return out
}
