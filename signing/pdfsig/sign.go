// Package pdfsig signs PDF documents with an SM2 detached CMS signature
// embedded by an incremental update (ISO 32000-1 §12.8), and extracts
// signatures for verification. The signed revision is never rewritten: the
// signer only appends.
//
// The input must use a classic cross-reference table (as gopdf writes);
// cross-reference streams are refused with a clear error.
package pdfsig

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/cms"
	"github.com/ecert/ecert/signing/internal/pdfobj"
)

// MetadataKey is the signature-dictionary entry holding ecert's signed
// metadata: a dictionary of name → text string (see docs/signing.md).
const MetadataKey = "ECertMeta"

var metaKeyRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Options describe one signature.
type Options struct {
	// Page is the 0-based index of the page that carries the visible seal.
	Page int
	// Rect is the seal's rectangle in PDF user space (points): llx, lly, urx, ury.
	Rect [4]float64
	// Reason, Location and Name go into the signature dictionary.
	Reason, Location, Name string
	// Time is the signing time (signature dictionary /M and CMS signingTime).
	Time time.Time
	// Appearance is the seal picture; nil draws a red ring; PageSeal()
	// draws nothing because the page already shows the seal.
	Appearance *Appearance
	// Metadata is signed key/value metadata (keys match [A-Za-z0-9._-]{1,64}).
	Metadata map[string]string
	// Profile selects the CMS object identifiers.
	Profile cms.Profile
	// ContentsSize is the room reserved for the CMS, in bytes. Zero reserves
	// the most this signer's CMS can take (cms.SignedSize), so the file
	// carries no padding beyond a few bytes; set it when something will be
	// added to the CMS later.
	ContentsSize int
}

// Sign appends a signature to pdf and returns the signed file. pdf is not
// modified; the result starts with exactly the bytes of pdf.
func Sign(ctx context.Context, pdf []byte, signer signing.Signer, opts Options) ([]byte, error) {
	if opts.Time.IsZero() {
		return nil, errors.New("pdfsig: signing time is required")
	}
	if opts.Rect[2] <= opts.Rect[0] || opts.Rect[3] <= opts.Rect[1] {
		return nil, fmt.Errorf("pdfsig: empty seal rectangle %v", opts.Rect)
	}
	if opts.ContentsSize <= 0 {
		n, err := cms.SignedSize(signer, cms.Options{SigningTime: opts.Time, Profile: opts.Profile})
		if err != nil {
			return nil, fmt.Errorf("pdfsig: %w", err)
		}
		opts.ContentsSize = n
	}
	for k := range opts.Metadata {
		if !metaKeyRE.MatchString(k) {
			return nil, fmt.Errorf("pdfsig: metadata key %q is not allowed", k)
		}
	}
	d, err := readDocument(pdf)
	if err != nil {
		return nil, fmt.Errorf("pdfsig: %w", err)
	}
	rootRef, ok := d.trailer.Get("Root")
	if !ok || rootRef.Kind != pdfobj.Ref {
		return nil, errors.New("pdfsig: trailer without /Root")
	}
	root, err := d.object(rootRef.RefNum())
	if err != nil || root.Kind != pdfobj.Dict {
		return nil, fmt.Errorf("pdfsig: catalog: %v", err)
	}
	if _, has := root.Get("AcroForm"); has {
		return nil, errors.New("pdfsig: document already has an interactive form; signing it is not supported")
	}
	pageRef, page, err := d.page(root, opts.Page)
	if err != nil {
		return nil, fmt.Errorf("pdfsig: %w", err)
	}
	if page.Kind != pdfobj.Dict {
		return nil, errors.New("pdfsig: page is not a dictionary")
	}

	next := d.size
	sigNum, widgetNum, apNum := next, next+1, next+2
	imgNum, maskNum := next+3, next+4
	picture := opts.Appearance
	if picture != nil && picture.onPage {
		picture = nil
	}
	newSize := next + 3
	if picture != nil {
		newSize = next + 4
		if picture.alpha != nil {
			newSize = next + 5
		}
	}

	room := len(pdf) + opts.ContentsSize*2 + 16<<10
	if picture != nil {
		room += len(picture.rgb) + len(picture.alpha)
	}
	// Sized for everything appended, so the document is never copied to grow.
	out := new(bytes.Buffer)
	out.Grow(room) // Grow does not clear the memory, make would
	out.Write(pdf)
	if pdf[len(pdf)-1] != '\n' {
		out.WriteByte('\n')
	}
	offsets := map[int]int{}
	begin := func(n int) {
		offsets[n] = out.Len()
		fmt.Fprintf(out, "%d 0 obj\n", n)
	}

	// 1. Signature dictionary.
	begin(sigNum)
	out.WriteString("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached\n/ByteRange ")
	brPos := out.Len()
	brPlaceholder := "[0 0000000000 0000000000 0000000000]"
	out.WriteString(brPlaceholder)
	out.WriteString("\n/Contents ")
	contentsPos := out.Len()
	out.WriteByte('<')
	out.Write(bytes.Repeat([]byte{'0'}, opts.ContentsSize*2))
	out.WriteByte('>')
	contentsEnd := out.Len()
	fmt.Fprintf(out, "\n/M %s", pdfDate(opts.Time))
	if opts.Name != "" {
		fmt.Fprintf(out, " /Name %s", textString(opts.Name))
	}
	if opts.Reason != "" {
		fmt.Fprintf(out, " /Reason %s", textString(opts.Reason))
	}
	if opts.Location != "" {
		fmt.Fprintf(out, " /Location %s", textString(opts.Location))
	}
	if len(opts.Metadata) > 0 {
		keys := make([]string, 0, len(opts.Metadata))
		for k := range opts.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(out, "\n/%s <<", MetadataKey)
		for _, k := range keys {
			fmt.Fprintf(out, " /%s %s", k, textString(opts.Metadata[k]))
		}
		out.WriteString(" >>")
	}
	out.WriteString(" >>\nendobj\n")

	// 2. Signature field merged with its widget annotation.
	w, h := opts.Rect[2]-opts.Rect[0], opts.Rect[3]-opts.Rect[1]
	begin(widgetNum)
	fmt.Fprintf(out, "<< /Type /Annot /Subtype /Widget /FT /Sig /T (ECertSeal%d) /V %d 0 R /P %d %d R /Rect [%s %s %s %s] /F 132 /AP << /N %d 0 R >> >>\nendobj\n",
		sigNum, sigNum, pageRef[0], pageRef[1], num(opts.Rect[0]), num(opts.Rect[1]), num(opts.Rect[2]), num(opts.Rect[3]), apNum)

	// 3. Appearance stream (and seal image).
	var content string
	var res string
	switch {
	case picture != nil:
		content = fmt.Sprintf("q %s 0 0 %s 0 0 cm /Seal Do Q\n", num(w), num(h))
		res = fmt.Sprintf("/Resources << /XObject << /Seal %d 0 R >> >>", imgNum)
	case opts.Appearance != nil: // PageSeal: the page shows it
		content = ""
	default:
		content = ringPath(w, h)
	}
	begin(apNum)
	fmt.Fprintf(out, "<< /Type /XObject /Subtype /Form /BBox [0 0 %s %s] %s /Length %d >>\nstream\n%s\nendstream\nendobj\n",
		num(w), num(h), res, len(content), content)
	if ap := picture; ap != nil {
		begin(imgNum)
		smask := ""
		if ap.alpha != nil {
			smask = fmt.Sprintf(" /SMask %d 0 R", maskNum)
		}
		fmt.Fprintf(out, "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode%s /Length %d >>\nstream\n",
			ap.w, ap.h, smask, len(ap.rgb))
		out.Write(ap.rgb)
		out.WriteString("\nendstream\nendobj\n")
		if ap.alpha != nil {
			begin(maskNum)
			fmt.Fprintf(out, "<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n",
				ap.w, ap.h, len(ap.alpha))
			out.Write(ap.alpha)
			out.WriteString("\nendstream\nendobj\n")
		}
	}

	// 4. The page, rewritten under its own number with the widget added.
	var annots []string
	if a, ok := page.Get("Annots"); ok {
		a, err = d.resolve(a)
		if err != nil || a.Kind != pdfobj.Array {
			return nil, errors.New("pdfsig: page /Annots is not an array")
		}
		for _, v := range a.Items {
			annots = append(annots, string(pdf[v.Start:v.End]))
		}
	}
	annots = append(annots, fmt.Sprintf("%d 0 R", widgetNum))
	begin(pageRef[0])
	writeDictWithout(out, pdf, page, "Annots")
	fmt.Fprintf(out, "/Annots [%s]\n>>\nendobj\n", join(annots))

	// 5. The catalog with the AcroForm.
	begin(rootRef.RefNum()[0])
	writeDictWithout(out, pdf, root, "AcroForm")
	fmt.Fprintf(out, "/AcroForm << /Fields [%d 0 R] /SigFlags 3 >>\n>>\nendobj\n", widgetNum)

	// 6. Cross-reference section and trailer.
	xref := out.Len()
	writeXref(out, offsets)
	fmt.Fprintf(out, "trailer\n<< /Size %d /Root %d %d R /Prev %d", newSize, rootRef.RefNum()[0], rootRef.RefNum()[1], d.startxref)
	for _, k := range []string{"Info", "ID"} {
		if v, ok := d.trailer.Get(k); ok {
			fmt.Fprintf(out, " /%s %s", k, pdf[v.Start:v.End])
		}
	}
	fmt.Fprintf(out, " >>\nstartxref\n%d\n%%%%EOF\n", xref)

	// 7. ByteRange, digest, CMS.
	b := out.Bytes()
	br := fmt.Sprintf("[0 %d %d %d]", contentsPos, contentsEnd, len(b)-contentsEnd)
	if len(br) > len(brPlaceholder) {
		return nil, errors.New("pdfsig: document too large for the ByteRange placeholder")
	}
	copy(b[brPos:], br+string(bytes.Repeat([]byte{' '}, len(brPlaceholder)-len(br))))
	digest := signing.SM3Ranges(b[:contentsPos], b[contentsEnd:])
	der, err := cms.SignDetached(ctx, signer, digest, cms.Options{SigningTime: opts.Time, Profile: opts.Profile})
	if err != nil {
		return nil, fmt.Errorf("pdfsig: %w", err)
	}
	if len(der) > opts.ContentsSize {
		return nil, fmt.Errorf("pdfsig: signature of %d bytes exceeds the %d reserved", len(der), opts.ContentsSize)
	}
	hex.Encode(b[contentsPos+1:], der)
	return b, nil
}

func writeDictWithout(out *bytes.Buffer, src []byte, d pdfobj.Object, drop string) {
	out.WriteString("<<\n")
	for _, e := range d.Entries {
		if e.Key == drop {
			continue
		}
		out.Write(src[e.KeyStart:e.Value.End])
		out.WriteByte('\n')
	}
}

func writeXref(out *bytes.Buffer, offsets map[int]int) {
	nums := make([]int, 0, len(offsets))
	for n := range offsets {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	out.WriteString("xref\n")
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		fmt.Fprintf(out, "%d %d\n", nums[i], j-i+1)
		for k := i; k <= j; k++ {
			fmt.Fprintf(out, "%010d 00000 n \n", offsets[nums[k]])
		}
		i = j + 1
	}
}

func join(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(x)
	}
	return b.String()
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// textString encodes s as a PDF text string (UTF-16BE with BOM, hex).
func textString(s string) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2, 2+2*len(u))
	b[0], b[1] = 0xFE, 0xFF
	for _, r := range u {
		b = append(b, byte(r>>8), byte(r))
	}
	return "<" + hex.EncodeToString(b) + ">"
}

// decodeText decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM,
// or PDFDocEncoding treated as Latin-1).
func decodeText(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return string(b[3:])
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func pdfDate(t time.Time) string {
	_, off := t.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("(D:%s%c%02d'%02d')", t.Format("20060102150405"), sign, off/3600, off%3600/60)
}

// ringPath draws a red double ring filling a w×h box.
func ringPath(w, h float64) string {
	var b bytes.Buffer
	b.WriteString("q 0.8 0 0 RG ")
	for _, inset := range []float64{2, 5} {
		rx, ry := w/2-inset, h/2-inset
		if rx <= 0 || ry <= 0 {
			continue
		}
		cx, cy := w/2, h/2
		k := 0.5523
		fmt.Fprintf(&b, "%s w %s %s m ", num(inset/2), num(cx+rx), num(cy))
		fmt.Fprintf(&b, "%s %s %s %s %s %s c ", num(cx+rx), num(cy+k*ry), num(cx+k*rx), num(cy+ry), num(cx), num(cy+ry))
		fmt.Fprintf(&b, "%s %s %s %s %s %s c ", num(cx-k*rx), num(cy+ry), num(cx-rx), num(cy+k*ry), num(cx-rx), num(cy))
		fmt.Fprintf(&b, "%s %s %s %s %s %s c ", num(cx-rx), num(cy-k*ry), num(cx-k*rx), num(cy-ry), num(cx), num(cy-ry))
		fmt.Fprintf(&b, "%s %s %s %s %s %s c S ", num(cx+k*rx), num(cy-ry), num(cx+rx), num(cy-k*ry), num(cx+rx), num(cy))
	}
	b.WriteString("Q")
	return b.String()
}
