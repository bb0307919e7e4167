package verify_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/ecert/ecert/signing/verify"
)

// rawEntry is one zip entry as written byte by byte: the local header and
// the central-directory record can be made to disagree.
type rawEntry struct {
	name, localName      string // localName "" means name
	method, localMethod  uint16
	flags, localFlags    uint16
	crc, csize, usize    uint32 // central directory
	lcrc, lcsize, lusize uint32 // local header
	data                 []byte // as stored (compressed)
	descriptor           []byte // written after data
	localOnly            bool   // no central-directory record (smuggled)
	offset               uint32
}

// rawZip writes entries with prefix before the first and gap after each;
// comment is the archive comment, trailer bytes follow the end record.
type rawZip struct {
	entries              []*rawEntry
	prefix, gap, trailer []byte
	comment              string
}

func (z *rawZip) bytes() []byte {
	var b bytes.Buffer
	le := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.Write(z.prefix)
	for _, e := range z.entries {
		e.offset = uint32(b.Len())
		le(uint32(0x04034b50))
		le(uint16(20))
		le(e.localFlags)
		le(e.localMethod)
		le(uint32(0))
		le(e.lcrc)
		le(e.lcsize)
		le(e.lusize)
		le(uint16(len(e.localName)))
		le(uint16(0))
		b.WriteString(e.localName)
		b.Write(e.data)
		b.Write(e.descriptor)
		b.Write(z.gap)
	}
	cdStart, n := b.Len(), 0
	for _, e := range z.entries {
		if e.localOnly {
			continue
		}
		n++
		le(uint32(0x02014b50))
		le(uint16(20))
		le(uint16(20))
		le(e.flags)
		le(e.method)
		le(uint32(0))
		le(e.crc)
		le(e.csize)
		le(e.usize)
		le(uint16(len(e.name)))
		le([3]uint16{})
		le(uint16(0))
		le(uint32(0))
		le(e.offset)
		b.WriteString(e.name)
	}
	cdSize := b.Len() - cdStart
	le(uint32(0x06054b50))
	le([2]uint16{})
	le([2]uint16{uint16(n), uint16(n)})
	le(uint32(cdSize))
	le(uint32(cdStart))
	le(uint16(len(z.comment)))
	b.WriteString(z.comment)
	b.Write(z.trailer)
	return b.Bytes()
}

// explode reads doc into raw entries that rawZip writes back unchanged.
func explode(t testing.TB, doc []byte) *rawZip {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		t.Fatal(err)
	}
	z := &rawZip{}
	for _, f := range zr.File {
		rc, err := f.OpenRaw()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		z.entries = append(z.entries, &rawEntry{
			name: f.Name, localName: f.Name, method: f.Method, localMethod: f.Method,
			crc: f.CRC32, csize: uint32(len(data)), usize: uint32(f.UncompressedSize64),
			lcrc: f.CRC32, lcsize: uint32(len(data)), lusize: uint32(f.UncompressedSize64), data: data,
		})
	}
	return z
}

func (z *rawZip) entry(t testing.TB, name string) *rawEntry {
	for _, e := range z.entries {
		if e.name == name {
			return e
		}
	}
	t.Fatalf("no entry %s", name)
	return nil
}

// deflated is a stored-as-deflate entry of content named name.
func deflated(name string, content []byte) *rawEntry {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write(content)
	w.Close()
	c, n := crc32.ChecksumIEEE(content), uint32(len(content))
	return &rawEntry{name: name, localName: name, method: 8, localMethod: 8, crc: c, csize: uint32(b.Len()), usize: n,
		lcrc: c, lcsize: uint32(b.Len()), lusize: n, data: b.Bytes()}
}

func (e *rawEntry) withDescriptor(sig bool, crc uint32) {
	e.flags |= 8
	e.localFlags |= 8
	e.lcrc, e.lcsize, e.lusize = 0, 0, 0
	var d []byte
	if sig {
		d = binary.LittleEndian.AppendUint32(d, 0x08074b50)
	}
	d = binary.LittleEndian.AppendUint32(d, crc)
	d = binary.LittleEndian.AppendUint32(d, e.csize)
	e.descriptor = binary.LittleEndian.AppendUint32(d, e.usize)
}

const contentXML = "Doc_0/Pages/Page_0/Content.xml"

// TestZipSmugglingRefused crafts each way a zip can read differently in a
// streaming reader and in archive/zip, from a real issued OFD.
func TestZipSmugglingRefused(t *testing.T) {
	f := newFixture(t)
	doc := f.rendered(t, "ofd", certificate("", ""), nil)
	cases := []struct {
		name, want string
		edit       func(t *testing.T, z *rawZip)
	}{
		{"unsigned copy before the real one", "belong to no entry", func(t *testing.T, z *rawZip) {
			smuggled := deflated(contentXML, []byte(`<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content/></ofd:Page>`))
			smuggled.localOnly = true
			z.entries = append([]*rawEntry{smuggled}, z.entries...)
		}},
		{"unsigned copy after the entries", "belong to no entry", func(t *testing.T, z *rawZip) {
			smuggled := deflated(contentXML, []byte("<x/>"))
			smuggled.localOnly = true
			z.entries = append(z.entries, smuggled)
		}},
		{"local name differs", "names", func(t *testing.T, z *rawZip) {
			z.entry(t, contentXML).localName = "Doc_0/Pages/Page_0/Content.xmm"
		}},
		{"local method differs", "method", func(t *testing.T, z *rawZip) {
			z.entry(t, contentXML).localMethod = 0
		}},
		{"local CRC differs", "CRC", func(t *testing.T, z *rawZip) {
			z.entry(t, contentXML).lcrc ^= 1
		}},
		{"local size differs", "uncompressed", func(t *testing.T, z *rawZip) {
			z.entry(t, contentXML).lusize++
		}},
		{"data descriptor CRC differs", "data descriptor", func(t *testing.T, z *rawZip) {
			e := z.entry(t, contentXML)
			e.withDescriptor(true, e.crc^1)
		}},
		{"descriptor flag only in the local header", "flags", func(t *testing.T, z *rawZip) {
			e := z.entry(t, contentXML)
			e.withDescriptor(true, e.crc)
			e.flags &^= 8
		}},
		{"encrypted entry", "encrypted", func(t *testing.T, z *rawZip) {
			e := z.entry(t, contentXML)
			e.flags |= 1
			e.localFlags |= 1
		}},
		{"bytes before the first entry", "belong to no entry", func(t *testing.T, z *rawZip) { z.prefix = []byte("MZ\x90\x00") }},
		{"bytes between entries", "belong to no entry", func(t *testing.T, z *rawZip) { z.gap = []byte{0} }},
		{"bytes after the end record", "end-of-central-directory", func(t *testing.T, z *rawZip) { z.trailer = []byte("PK\x03\x04") }},
		{"end record in the comment", "comment", func(t *testing.T, z *rawZip) { z.comment = "PK\x05\x06" }},
		{"name differing in case", "same file", func(t *testing.T, z *rawZip) {
			z.entries = append(z.entries, deflated(strings.ToLower(contentXML), []byte("<x/>")))
		}},
		{"name with ./", "same file", func(t *testing.T, z *rawZip) { z.entries = append(z.entries, deflated("./OFD.xml", []byte("<x/>"))) }},
		{"name with backslashes", "same file", func(t *testing.T, z *rawZip) {
			z.entries = append(z.entries, deflated(strings.ReplaceAll(contentXML, "/", `\`), []byte("<x/>")))
		}},
		{"name with a leading slash", "same file", func(t *testing.T, z *rawZip) { z.entries = append(z.entries, deflated("/OFD.xml", []byte("<x/>"))) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			z := explode(t, doc)
			c.edit(t, z)
			bad := z.bytes()
			err := verify.ZipStructure(bad)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ZipStructure = %v, want an error about %q", err, c.want)
			}
			r := verify.OFD(bad, f.opts)
			wantFail(t, r, verify.CheckPackage)
			if ch, _ := r.Check(verify.CheckPackage); !strings.Contains(ch.Reason, c.want) {
				t.Errorf("package check reason %q does not say %q", ch.Reason, c.want)
			}
		})
	}
}

// TestZipStructureAccepts: our own packages, and the same entries written
// back with data descriptors (with and without their signature) or an
// archive comment, are accepted and still verify.
func TestZipStructureAccepts(t *testing.T) {
	f := newFixture(t)
	doc := f.rendered(t, "ofd", certificate("", ""), nil)
	cases := []struct {
		name string
		edit func(z *rawZip)
	}{
		{"as issued", nil},
		{"rewritten", func(z *rawZip) {}},
		{"data descriptors with signature", func(z *rawZip) {
			for _, e := range z.entries {
				e.withDescriptor(true, e.crc)
			}
		}},
		{"data descriptors without signature", func(z *rawZip) {
			for _, e := range z.entries {
				e.withDescriptor(false, e.crc)
			}
		}},
		{"short comment", func(z *rawZip) { z.comment = "KRC" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := doc
			if c.edit != nil {
				z := explode(t, doc)
				c.edit(z)
				data = z.bytes()
			}
			if err := verify.ZipStructure(data); err != nil {
				t.Fatal(err)
			}
			r := verify.OFD(data, f.opts)
			if !r.OK {
				t.Fatalf("%+v", r.Checks)
			}
			if ch, ok := r.Check(verify.CheckPackage); !ok || !ch.OK {
				t.Fatalf("package check %+v", ch)
			}
		})
	}
}

// TestZipBombRefused: the package limits hold behind the structure check.
func TestZipBombRefused(t *testing.T) {
	f := newFixture(t)
	z := explode(t, f.ofd(t, f.ca.Signer, f.seal, nil))
	z.entries = append(z.entries, deflated("Doc_0/Res/bomb.bin", make([]byte, 40<<20)))
	bomb := z.bytes()
	if err := verify.ZipStructure(bomb); err != nil {
		t.Fatalf("a well-formed bomb is the limits' job, structure said %v", err)
	}
	r := verify.OFD(bomb, f.opts)
	wantFail(t, r, verify.CheckFormat)
	if c, _ := r.Check(verify.CheckFormat); !strings.Contains(c.Reason, "limit") {
		t.Fatalf("format: %s, want a limit", c.Reason)
	}
}

// localWalk reads a zip as a streaming reader does: local headers from the
// start, data sized by the local header (or, with a data descriptor, by the
// end of the deflate stream), until something else comes.
func localWalk(data []byte) map[string][]byte {
	out := map[string][]byte{}
	le16 := func(b []byte) int { return int(binary.LittleEndian.Uint16(b)) }
	for len(data) >= 30 && binary.LittleEndian.Uint32(data) == 0x04034b50 {
		flags, method := le16(data[6:]), le16(data[8:])
		csize := int(binary.LittleEndian.Uint32(data[18:]))
		nl, xl := le16(data[26:]), le16(data[28:])
		if 30+nl+xl > len(data) {
			break
		}
		name, body := string(data[30:30+nl]), data[30+nl+xl:]
		if x := data[30+nl : 30+nl+xl]; csize == 0xffffffff && xl >= 20 && le16(x) == 1 {
			csize = int(binary.LittleEndian.Uint64(x[12:]) & 0xffffffff)
		}
		var content []byte
		switch {
		case flags&8 != 0 && method == 8:
			br := bytes.NewReader(body)
			content, _ = io.ReadAll(io.LimitReader(flate.NewReader(br), 64<<20))
			csize = len(body) - br.Len()
			if d := body[csize:]; len(d) >= 4 && binary.LittleEndian.Uint32(d) == 0x08074b50 {
				csize += 4
			}
			csize += 12
		case flags&8 != 0 && csize == 0:
			// Stored with a descriptor: the first signed descriptor that
			// fits the bytes before it, as commons-compress finds it.
			csize = storedEnd(body)
			if csize < 0 {
				return out
			}
			content = body[:csize]
			csize += 16
		case csize > len(body):
			return out
		case method == 8:
			content, _ = io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(body[:csize])), 64<<20))
		default:
			content = body[:csize]
		}
		if csize > len(body) {
			break
		}
		out[name] = content
		data = body[csize:]
	}
	return out
}

func storedEnd(body []byte) int {
	for i := 0; i+16 <= len(body); i++ {
		if binary.LittleEndian.Uint32(body[i:]) == 0x08074b50 &&
			int(binary.LittleEndian.Uint32(body[i+8:])) == i && crc32.ChecksumIEEE(body[:i]) == binary.LittleEndian.Uint32(body[i+4:]) {
			return i
		}
	}
	return -1
}

// FuzzZipStructure: never panics, and never accepts a package on which
// archive/zip and a walk of the local headers disagree.
func FuzzZipStructure(f *testing.F) {
	fx := newFixture(f)
	doc := fx.ofd(f, fx.ca.Signer, fx.seal, nil)
	f.Add(doc)
	z := explode(f, doc)
	smuggled := deflated("OFD.xml", []byte("<x/>"))
	smuggled.localOnly = true
	z.entries = append([]*rawEntry{smuggled}, z.entries...)
	f.Add(z.bytes())
	f.Add(zipBomb(f))
	f.Add([]byte("PK\x05\x06\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if verify.ZipStructure(data) != nil {
			return
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		walked := localWalk(data)
		if len(walked) != len(zr.File) {
			t.Fatalf("accepted: archive/zip sees %d entries, the local walk %d", len(zr.File), len(walked))
		}
		for _, zf := range zr.File {
			got, ok := walked[zf.Name]
			if !ok {
				t.Fatalf("accepted: %q is not where the local walk finds entries", zf.Name)
			}
			rc, err := zf.Open()
			if err != nil {
				continue
			}
			want, err := io.ReadAll(io.LimitReader(rc, 64<<20))
			if err == nil && !bytes.Equal(got, want) {
				t.Fatalf("accepted: %q reads differently from the central directory and the local header", zf.Name)
			}
		}
	})
}
