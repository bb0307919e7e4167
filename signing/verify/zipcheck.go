package verify

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
)

// CheckPackage is the strict zip-structure check of an OFD package.
const CheckPackage = "package"

// Zip record signatures and fixed sizes (APPNOTE 6.3).
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEnd        = 0x06054b50
	sigDescriptor = 0x08074b50
	localLen      = 30
	centralLen    = 46
	endLen        = 22

	flagEncrypted      = 0x0001
	flagDescriptor     = 0x0008
	flagStrongEncrypt  = 0x0040
	flagMaskedHeaders  = 0x2000
	maxZipStructureDir = 1000 // entries, as ofdsig.DefaultLimits
)

// zipEntry is what one central-directory record says about an entry.
type zipEntry struct {
	name                 []byte
	flags, method        uint16
	crc                  uint32
	csize, usize, offset uint32
}

// ZipStructure checks that an OFD zip package reads the same whichever way
// a reader walks it. archive/zip reads only the central directory, while
// streaming readers (many Java and JavaScript OFD tools) walk the local file
// headers from the start; a package on which they disagree can show a reader
// content that no signature covers. ZipStructure refuses:
//   - any byte outside the entries, the central directory and the end record
//     (no prefix, no gap between entries, no archive comment);
//   - a local header that differs from its central-directory record in name,
//     flags that matter (encryption, data descriptor), method, CRC-32 or
//     sizes, or a data descriptor that differs from it;
//   - encrypted entries, methods other than stored and deflate, ZIP64 and
//     multi-disk archives;
//   - names that repeat after normalisation (case, "\" for "/", "./",
//     leading "/", trailing "/").
//
// It reads headers only, never inflates, and runs before anything else
// reads the package.
func ZipStructure(data []byte) error {
	end, err := endRecord(data)
	if err != nil {
		return err
	}
	e := data[end:]
	disk, cdDisk := le16(e[4:]), le16(e[6:])
	onDisk, total := le16(e[8:]), le16(e[10:])
	cdSize, cdOff := le32(e[12:]), le32(e[16:])
	if disk != 0 || cdDisk != 0 || onDisk != total {
		return errors.New("multi-disk archive")
	}
	if total == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
		return errors.New("ZIP64 archive (not used by OFD packages of this size)")
	}
	if int(total) > maxZipStructureDir {
		return fmt.Errorf("%d entries (limit %d)", total, maxZipStructureDir)
	}
	if uint64(cdOff)+uint64(cdSize) != uint64(end) {
		return fmt.Errorf("central directory at %d+%d does not end where the end record starts (%d)", cdOff, cdSize, end)
	}
	entries, err := centralDirectory(data[cdOff:end], int(total))
	if err != nil {
		return err
	}
	if err := uniqueNames(entries); err != nil {
		return err
	}
	return walkLocal(data[:cdOff], entries)
}

// maxZipComment bounds the archive comment, the only bytes allowed after
// the central directory besides the end record.
const maxZipComment = 1024

// endRecord finds the end-of-central-directory record: the one whose
// comment runs exactly to the end of the file. The comment may not contain
// "PK", so that no reader can take a record inside it for the real one.
func endRecord(data []byte) (int, error) {
	for n := 0; n <= maxZipComment; n++ {
		end := len(data) - endLen - n
		if end < 0 {
			break
		}
		if le32(data[end:]) != sigEnd || int(le16(data[end+20:])) != n {
			continue
		}
		if bytes.Contains(data[end+endLen:], []byte("PK")) {
			return 0, errors.New(`the archive comment contains "PK" (a second end record?)`)
		}
		return end, nil
	}
	return 0, fmt.Errorf("no end-of-central-directory record at the end of the file (trailing bytes, or a comment over %d bytes?)", maxZipComment)
}

// checkPackage adds the package check and reports whether it passed.
func (r *Report) checkPackage(data []byte) bool {
	if err := ZipStructure(data); err != nil {
		r.add(CheckPackage, fmt.Errorf("zip package refused: %w", err), "")
		return false
	}
	r.add(CheckPackage, nil, "zip structure consistent: every local header matches the central directory, no bytes outside the entries, no encrypted or duplicate entries")
	return true
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// centralDirectory parses exactly n records filling cd.
func centralDirectory(cd []byte, n int) ([]zipEntry, error) {
	entries := make([]zipEntry, 0, n)
	for i := 0; i < n; i++ {
		if len(cd) < centralLen || le32(cd) != sigCentral {
			return nil, fmt.Errorf("central directory record %d of %d is missing or damaged", i+1, n)
		}
		nameLen, extraLen, commentLen := int(le16(cd[28:])), int(le16(cd[30:])), int(le16(cd[32:]))
		recLen := centralLen + nameLen + extraLen + commentLen
		if len(cd) < recLen {
			return nil, fmt.Errorf("central directory record %d runs past the directory", i+1)
		}
		en := zipEntry{
			name:  cd[centralLen : centralLen+nameLen],
			flags: le16(cd[8:]), method: le16(cd[10:]), crc: le32(cd[16:]),
			csize: le32(cd[20:]), usize: le32(cd[24:]), offset: le32(cd[42:]),
		}
		if le16(cd[34:]) != 0 {
			return nil, fmt.Errorf("entry %q is on another disk", en.name)
		}
		if err := entryFlags(en); err != nil {
			return nil, err
		}
		entries = append(entries, en)
		cd = cd[recLen:]
	}
	if len(cd) != 0 {
		return nil, fmt.Errorf("%d bytes after the %d central directory records", len(cd), n)
	}
	return entries, nil
}

func entryFlags(en zipEntry) error {
	switch {
	case en.flags&(flagEncrypted|flagStrongEncrypt|flagMaskedHeaders) != 0:
		return fmt.Errorf("entry %q is encrypted", en.name)
	case en.method != 0 && en.method != 8:
		return fmt.Errorf("entry %q uses compression method %d (only stored and deflate are read)", en.name, en.method)
	case en.csize == 0xffffffff || en.usize == 0xffffffff || en.offset == 0xffffffff:
		return fmt.Errorf("entry %q uses ZIP64 fields", en.name)
	}
	return nil
}

// normalName folds the spellings different zip readers treat as one file.
func normalName(name []byte) string {
	s := strings.ToLower(strings.ReplaceAll(string(name), `\`, "/"))
	s = strings.Trim(path.Clean("/"+s), "/")
	return s
}

func uniqueNames(entries []zipEntry) error {
	seen := make(map[string][]byte, len(entries))
	for _, en := range entries {
		n := normalName(en.name)
		if prev, dup := seen[n]; dup {
			return fmt.Errorf("entry names %q and %q name the same file", prev, en.name)
		}
		seen[n] = en.name
	}
	return nil
}

// walkLocal walks the local headers from offset 0: every entry must start
// exactly where the previous one ended, agree with its central-directory
// record, and the last must end where the central directory starts.
func walkLocal(body []byte, entries []zipEntry) error {
	sorted := append([]zipEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].offset < sorted[j].offset })
	pos := 0
	for _, en := range sorted {
		if int(en.offset) != pos {
			return fmt.Errorf("%d bytes at offset %d belong to no entry (next entry %q starts at %d)", int(en.offset)-pos, pos, en.name, en.offset)
		}
		next, err := localEntry(body, pos, en)
		if err != nil {
			return err
		}
		pos = next
	}
	if pos != len(body) {
		return fmt.Errorf("%d bytes between the last entry and the central directory belong to no entry", len(body)-pos)
	}
	return nil
}

// localEntry checks the local header, data and any data descriptor of en
// at pos and returns the offset just past them.
func localEntry(body []byte, pos int, en zipEntry) (int, error) {
	h := body[pos:]
	if len(h) < localLen || le32(h) != sigLocal {
		return 0, fmt.Errorf("no local header for %q at offset %d", en.name, pos)
	}
	flags, method := le16(h[6:]), le16(h[8:])
	crc, csize, usize := le32(h[14:]), le32(h[18:]), le32(h[22:])
	nameLen, extraLen := int(le16(h[26:])), int(le16(h[28:]))
	dataStart := localLen + nameLen + extraLen
	if len(h) < dataStart {
		return 0, fmt.Errorf("local header of %q runs past the entries", en.name)
	}
	if name := h[localLen : localLen+nameLen]; !bytes.Equal(name, en.name) {
		return 0, fmt.Errorf("local header at offset %d names %q, the central directory %q", pos, name, en.name)
	}
	const mattering = flagEncrypted | flagDescriptor | flagStrongEncrypt | flagMaskedHeaders
	if flags&mattering != en.flags&mattering {
		return 0, fmt.Errorf("%q: local header flags %#04x differ from the central directory's %#04x", en.name, flags, en.flags)
	}
	if method != en.method {
		return 0, fmt.Errorf("%q: local header method %d differs from the central directory's %d", en.name, method, en.method)
	}
	descriptor := en.flags&flagDescriptor != 0
	// With a data descriptor the local fields may be zero; if set, they
	// must still agree.
	if csize == 0xffffffff && usize == 0xffffffff {
		var err error
		if csize, usize, err = zip64Sizes(h[localLen+nameLen:dataStart], en); err != nil {
			return 0, err
		}
	}
	if !descriptor || crc|csize|usize != 0 {
		if err := sameSums(en, "local header", crc, csize, usize); err != nil {
			return 0, err
		}
	}
	end := dataStart + int(en.csize)
	if len(h) < end {
		return 0, fmt.Errorf("data of %q runs past the entries", en.name)
	}
	if descriptor {
		n, err := dataDescriptor(h[end:], en)
		if err != nil {
			return 0, err
		}
		end += n
	}
	return pos + end, nil
}

// dataDescriptor checks the descriptor at d against en and returns its
// length (12 bytes, or 16 with the optional signature).
func dataDescriptor(d []byte, en zipEntry) (int, error) {
	n := 0
	if len(d) >= 4 && le32(d) == sigDescriptor {
		n = 4
	}
	if len(d) < n+12 {
		return 0, fmt.Errorf("data descriptor of %q is missing", en.name)
	}
	if err := sameSums(en, "data descriptor", le32(d[n:]), le32(d[n+4:]), le32(d[n+8:])); err != nil {
		return 0, err
	}
	return n + 12, nil
}

func sameSums(en zipEntry, where string, crc, csize, usize uint32) error {
	if crc != en.crc || csize != en.csize || usize != en.usize {
		return fmt.Errorf("%q: %s says CRC %08x, %d bytes compressed, %d uncompressed; the central directory CRC %08x, %d, %d",
			en.name, where, crc, csize, usize, en.crc, en.csize, en.usize)
	}
	return nil
}

// zip64Sizes reads the sizes from the ZIP64 extra field of a local header
// whose size fields are 0xffffffff (some writers emit one for every entry
// whose size they did not know in advance). Sizes that need 64 bits are
// refused.
func zip64Sizes(extra []byte, en zipEntry) (csize, usize uint32, err error) {
	for len(extra) >= 4 {
		id, n := le16(extra), int(le16(extra[2:]))
		if len(extra) < 4+n {
			break
		}
		if id == 0x0001 && n >= 16 {
			u, c := binary.LittleEndian.Uint64(extra[4:]), binary.LittleEndian.Uint64(extra[12:])
			if u >= 0xffffffff || c >= 0xffffffff {
				return 0, 0, fmt.Errorf("%q: ZIP64 sizes over 4 GiB", en.name)
			}
			return uint32(c), uint32(u), nil
		}
		extra = extra[4+n:]
	}
	return 0, 0, fmt.Errorf("%q: local header sizes are 0xffffffff without a ZIP64 extra field", en.name)
}
