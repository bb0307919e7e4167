// Package ofdsig signs OFD packages with a GB/T 38540-2020 electronic seal
// signature (SES_Signature v4 over Signature.xml, whose References list the
// SM3 digest of every file of the package) and parses such signatures for
// verification. It reads packages within Limits, so zip bombs are refused
// before they are inflated.
package ofdsig

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/asn1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecert/ecert/signing"
)

// Namespace is the OFD XML namespace.
const Namespace = "http://www.ofdspec.org/2016"

// Options describe one seal signature.
type Options struct {
	// Time is the signing time (TBS_Sign timeInfo).
	Time time.Time
	// Page is the 0-based index of the page (in Document.xml order) that
	// carries the stamp.
	Page int
	// Boundary is the stamp box on that page in mm: x, y, width, height.
	Boundary [4]float64
	// Metadata is written as CustomData entries in OFD.xml's DocInfo before
	// the digests are taken, so the signature covers it.
	Metadata map[string]string
	// Limits bound reading the input package.
	Limits Limits
}

var (
	rootTagRE  = regexp.MustCompile(`<([A-Za-z_][\w.-]*:)?OFD[\s>]`)
	metaNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// Sign seals an unsigned OFD package with seal (a DER SES_Seal, embedded
// byte for byte) and signer, whose certificate must be in the seal's
// certList. It returns the new package; files other than OFD.xml keep their
// exact bytes.
func Sign(ctx context.Context, ofd []byte, signer signing.Signer, seal []byte, opts Options) ([]byte, error) {
	if err := checkSignArgs(signer, seal, opts); err != nil {
		return nil, err
	}
	pkg, err := ReadPackage(ofd, opts.Limits)
	if err != nil {
		return nil, err
	}
	get := func(name string) ([]byte, bool) { b, ok := pkg.Files[name]; return b, ok }
	sf, err := makeSignature(ctx, get, pkg.Names, signer, seal, opts)
	if err != nil {
		return nil, err
	}
	// Zip: unchanged entries copied as stored, then the new files.
	var out bytes.Buffer
	out.Grow(len(ofd) + len(sf.signature) + len(sf.value) + 4096)
	zw := zip.NewWriter(&out)
	zw.RegisterCompressor(zip.Deflate, pooledDeflate)
	for _, f := range pkg.zr.File {
		if _, ok := pkg.Files[f.Name]; !ok {
			continue
		}
		if f.Name == "OFD.xml" {
			if err := deflateEntry(zw, "OFD.xml", sf.ofdXML, opts.Time); err != nil {
				return nil, err
			}
			continue
		}
		if err := zw.Copy(f); err != nil {
			return nil, fmt.Errorf("ofdsig: copy %s: %w", f.Name, err)
		}
	}
	for _, e := range sf.added() {
		if err := deflateEntry(zw, e.name, e.data, opts.Time); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("ofdsig: write package: %w", err)
	}
	return out.Bytes(), nil
}

// Container is an OFD package that has not been zipped yet, such as the
// renderer's output: SignContainer reads its files and adds the signature
// to it without a zip round trip.
type Container interface {
	File(name string) ([]byte, bool)
	Add(name string, data []byte) error
	Replace(name string, data []byte) error
}

// SignContainer is Sign for a package still in memory: it digests the files
// named by names (every file of the package), replaces OFD.xml and adds the
// signature files to c. The caller zips c afterwards; the bytes it zips must
// be the ones digested, so c must not change them.
func SignContainer(ctx context.Context, c Container, names []string, signer signing.Signer, seal []byte, opts Options) error {
	if err := checkSignArgs(signer, seal, opts); err != nil {
		return err
	}
	sf, err := makeSignature(ctx, c.File, names, signer, seal, opts)
	if err != nil {
		return err
	}
	if err := c.Replace("OFD.xml", sf.ofdXML); err != nil {
		return fmt.Errorf("ofdsig: %w", err)
	}
	for _, e := range sf.added() {
		if err := c.Add(e.name, e.data); err != nil {
			return fmt.Errorf("ofdsig: %w", err)
		}
	}
	return nil
}

func checkSignArgs(signer signing.Signer, seal []byte, opts Options) error {
	if opts.Time.IsZero() {
		return errors.New("ofdsig: signing time is required")
	}
	if opts.Boundary[2] <= 0 || opts.Boundary[3] <= 0 {
		return errors.New("ofdsig: empty stamp boundary")
	}
	if len(signer.Chain()) == 0 {
		return errors.New("ofdsig: signer has no certificate")
	}
	if err := checkSeal(seal); err != nil {
		return fmt.Errorf("ofdsig: seal: %w", err)
	}
	return nil
}

// lastSeal is the seal most recently found well-formed. A service signs
// with one seal for months; parsing it for every signature cost about
// 0.09 ms, comparing it to the last good one costs a few microseconds.
var lastSeal atomic.Pointer[[]byte]

// checkSeal reports whether seal is a well-formed SES_Seal.
func checkSeal(seal []byte) error {
	if p := lastSeal.Load(); p != nil && bytes.Equal(*p, seal) {
		return nil
	}
	if _, err := ParseSeal(seal); err != nil {
		return err
	}
	good := bytes.Clone(seal)
	lastSeal.Store(&good)
	return nil
}

// signatureFiles are the files a signature changes or adds.
type signatureFiles struct {
	ofdXML                       []byte // OFD.xml with metadata and the Signatures pointer
	sigsName, sigName, valueName string
	signatures, signature, value []byte
}

type namedFile struct {
	name string
	data []byte
}

func (sf *signatureFiles) added() []namedFile {
	return []namedFile{{sf.sigsName, sf.signatures}, {sf.sigName, sf.signature}, {sf.valueName, sf.value}}
}

// makeSignature builds the signature of the package whose files get returns.
func makeSignature(ctx context.Context, get func(string) ([]byte, bool), names []string, signer signing.Signer, seal []byte, opts Options) (*signatureFiles, error) {
	xmlOf := func(name string) ([]byte, error) {
		b, ok := get(name)
		return xmlFile(name, b, ok, opts.Limits)
	}
	ofdXML, err := xmlOf("OFD.xml")
	if err != nil {
		return nil, err
	}
	var root OFDRoot
	if err := ParseXML(ofdXML, &root); err != nil {
		return nil, fmt.Errorf("ofdsig: OFD.xml: %w", err)
	}
	if len(root.DocBodies) == 0 {
		return nil, errors.New("ofdsig: OFD.xml has no DocBody")
	}
	body := root.DocBodies[0]
	if strings.TrimSpace(body.Signatures) != "" {
		return nil, errors.New("ofdsig: package is already signed; adding a signature is not supported")
	}
	docRoot, err := Resolve("OFD.xml", body.DocRoot)
	if err != nil {
		return nil, err
	}
	docXML, err := xmlOf(docRoot)
	if err != nil {
		return nil, err
	}
	var doc DocumentXML
	if err := ParseXML(docXML, &doc); err != nil {
		return nil, fmt.Errorf("ofdsig: %s: %w", docRoot, err)
	}
	if opts.Page < 0 || opts.Page >= len(doc.Pages) {
		return nil, fmt.Errorf("ofdsig: page %d does not exist (%d pages)", opts.Page+1, len(doc.Pages))
	}
	pageID := doc.Pages[opts.Page].ID
	docDir := path.Dir(docRoot)
	signsDir := path.Join(docDir, "Signs")
	sf := &signatureFiles{
		sigsName:  path.Join(signsDir, "Signatures.xml"),
		sigName:   path.Join(signsDir, "Sign_0", "Signature.xml"),
		valueName: path.Join(signsDir, "Sign_0", "SignedValue.dat"),
	}
	for _, n := range []string{sf.sigsName, sf.sigName, sf.valueName} {
		if _, exists := get(n); exists {
			return nil, fmt.Errorf("ofdsig: package already contains %s", n)
		}
	}

	// 1. Final OFD.xml with the metadata and the Signatures pointer.
	if sf.ofdXML, err = rewriteOFDXML(ofdXML, "/"+sf.sigsName, opts.Metadata); err != nil {
		return nil, err
	}
	// 2. Signatures.xml (protected too: no later signature may be slipped in).
	sf.signatures = []byte(xml.Header[:len(xml.Header)-1] + "\n" +
		`<ofd:Signatures xmlns:ofd="` + Namespace + `"><ofd:MaxSignId>2</ofd:MaxSignId>` +
		`<ofd:Signature ID="1" Type="Seal" BaseLoc="/` + sf.sigName + `"/></ofd:Signatures>`)
	// 3. Signature.xml with the digest of every file.
	files := make(map[string][]byte, len(names)+1)
	for _, n := range names {
		b, ok := get(n)
		if !ok {
			return nil, fmt.Errorf("ofd: package has no %s", n)
		}
		files[n] = b
	}
	files["OFD.xml"] = sf.ofdXML
	files[sf.sigsName] = sf.signatures
	sorted := make([]string, 0, len(files))
	for n := range files {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var sx bytes.Buffer
	sx.WriteString(xml.Header[:len(xml.Header)-1] + "\n")
	sx.WriteString(`<ofd:Signature xmlns:ofd="` + Namespace + `"><ofd:SignedInfo>`)
	sx.WriteString(`<ofd:Provider ProviderName="ecert" Version="1.0" Company="ecert"/>`)
	sx.WriteString(`<ofd:SignatureMethod>` + signing.OIDSM2WithSM3.String() + `</ofd:SignatureMethod>`)
	sx.WriteString(`<ofd:SignatureDateTime>` + opts.Time.UTC().Format("20060102150405Z") + `</ofd:SignatureDateTime>`)
	sx.WriteString(`<ofd:References CheckMethod="` + signing.OIDSM3.String() + `">`)
	for _, n := range sorted {
		sx.WriteString(`<ofd:Reference FileRef="/` + escape(n) + `"><ofd:CheckValue>`)
		sx.WriteString(base64.StdEncoding.EncodeToString(signing.SM3(files[n])))
		sx.WriteString(`</ofd:CheckValue></ofd:Reference>`)
	}
	sx.WriteString(`</ofd:References>`)
	b := opts.Boundary
	fmt.Fprintf(&sx, `<ofd:StampAnnot ID="2" PageRef="%s" Boundary="%s %s %s %s"/>`, escape(pageID), mm(b[0]), mm(b[1]), mm(b[2]), mm(b[3]))
	sx.WriteString(`</ofd:SignedInfo><ofd:SignedValue>/` + sf.valueName + `</ofd:SignedValue></ofd:Signature>`)
	sf.signature = sx.Bytes()

	// 4. SES_Signature over TBS_Sign.
	tbs, err := asn1.Marshal(tbsSign{
		Version:      4,
		ESeal:        asn1.RawValue{FullBytes: seal},
		TimeInfo:     opts.Time.UTC().Truncate(time.Second),
		DataHash:     bits(signing.SM3(sf.signature)),
		PropertyInfo: "/" + sf.sigName,
	})
	if err != nil {
		return nil, fmt.Errorf("ofdsig: encode TBS_Sign: %w", err)
	}
	sig, err := signer.Sign(ctx, tbs)
	if err != nil {
		return nil, fmt.Errorf("ofdsig: sign: %w", err)
	}
	if sf.value, err = asn1.Marshal(sesSignature{
		ToSign: asn1.RawValue{FullBytes: tbs}, Cert: signer.Chain()[0].Raw,
		SignatureAlgID: signing.OIDSM2WithSM3, Signature: bits(sig),
	}); err != nil {
		return nil, fmt.Errorf("ofdsig: encode SES_Signature: %w", err)
	}
	return sf, nil
}

var flatePool sync.Pool

type pooledWriter struct{ *flate.Writer }

func (w pooledWriter) Close() error {
	err := w.Writer.Close()
	flatePool.Put(w.Writer)
	return err
}

// pooledDeflate reuses flate writers: allocating one costs more than
// compressing the few small files a signature adds.
func pooledDeflate(w io.Writer) (io.WriteCloser, error) {
	if fw, ok := flatePool.Get().(*flate.Writer); ok {
		fw.Reset(w)
		return pooledWriter{fw}, nil
	}
	fw, err := flate.NewWriter(w, flate.BestSpeed)
	if err != nil {
		return nil, err
	}
	return pooledWriter{fw}, nil
}

func deflateEntry(zw *zip.Writer, name string, b []byte, t time.Time) error {
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: t})
	if err != nil {
		return fmt.Errorf("ofdsig: write %s: %w", name, err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("ofdsig: write %s: %w", name, err)
	}
	return nil
}

func mm(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), `"`, "&#34;")
}

// rewriteOFDXML adds CustomData entries and the Signatures location to the
// first DocBody, keeping every other byte.
func rewriteOFDXML(b []byte, sigsLoc string, meta map[string]string) ([]byte, error) {
	m := rootTagRE.FindSubmatch(b)
	if m == nil {
		return nil, errors.New("ofdsig: OFD.xml has no OFD root element")
	}
	p := string(m[1])
	s := string(b)
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			if !metaNameRE.MatchString(k) {
				return nil, fmt.Errorf("ofdsig: metadata name %q is not allowed", k)
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var cd strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&cd, `<%sCustomData Name="%s">%s</%sCustomData>`, p, k, escape(meta[k]), p)
		}
		if i := strings.Index(s, "</"+p+"CustomDatas>"); i >= 0 {
			s = s[:i] + cd.String() + s[i:]
		} else if i := strings.Index(s, "</"+p+"DocInfo>"); i >= 0 {
			s = s[:i] + "<" + p + "CustomDatas>" + cd.String() + "</" + p + "CustomDatas>" + s[i:]
		} else {
			return nil, errors.New("ofdsig: OFD.xml has no DocInfo for the metadata")
		}
	}
	i := strings.Index(s, "</"+p+"DocBody>")
	if i < 0 {
		return nil, errors.New("ofdsig: OFD.xml has no closing DocBody")
	}
	s = s[:i] + "<" + p + "Signatures>" + sigsLoc + "</" + p + "Signatures>" + s[i:]
	return []byte(s), nil
}
