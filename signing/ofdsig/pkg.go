package ofdsig

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// Limits bound what reading an OFD package may cost. The zero value means
// DefaultLimits.
type Limits struct {
	MaxPackageSize int64 // size of the zip file itself
	MaxEntries     int   // files in the zip
	MaxEntrySize   int64 // uncompressed size of one file
	MaxTotalSize   int64 // uncompressed size of all files
	MaxRatio       int64 // uncompressed/compressed for entries over 64 KiB
	MaxXMLSize     int64 // uncompressed size of any XML file parsed
}

// DefaultLimits suit certificates (a few hundred KB) with a wide margin.
var DefaultLimits = Limits{
	MaxPackageSize: 64 << 20,
	MaxEntries:     1000,
	MaxEntrySize:   32 << 20,
	MaxTotalSize:   128 << 20,
	MaxRatio:       200,
	MaxXMLSize:     4 << 20,
}

// ErrLimit wraps every refusal caused by a limit (zip bombs included).
var ErrLimit = errors.New("ofd: package exceeds a limit")

// Package is an OFD zip read into memory: every file's uncompressed bytes.
type Package struct {
	// Names lists the files in zip order (directories left out).
	Names []string
	// Files maps a name (no leading slash) to its bytes.
	Files map[string][]byte
	zr    *zip.Reader
}

// ReadPackage unpacks an OFD zip within lim. It refuses duplicate or
// unsafe names, declared or actual sizes over the limits, and suspicious
// compression ratios, before inflating anything it refuses.
func ReadPackage(data []byte, lim Limits) (*Package, error) {
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	if int64(len(data)) > lim.MaxPackageSize {
		return nil, fmt.Errorf("%w: package of %d bytes (limit %d)", ErrLimit, len(data), lim.MaxPackageSize)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, fmt.Errorf("ofd: not a zip package: %w", err)
	}
	if zr == nil {
		return nil, fmt.Errorf("ofd: not a zip package: %w", err)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, fmt.Errorf("%w: %d entries (limit %d)", ErrLimit, len(zr.File), lim.MaxEntries)
	}
	p := &Package{Files: map[string][]byte{}, zr: zr}
	var declared int64
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") && f.UncompressedSize64 == 0 {
			continue
		}
		if err := checkName(name); err != nil {
			return nil, err
		}
		if _, dup := p.Files[name]; dup {
			return nil, fmt.Errorf("ofd: duplicate entry %q", name)
		}
		size := f.UncompressedSize64
		if size > uint64(lim.MaxEntrySize) {
			return nil, fmt.Errorf("%w: %s declares %d bytes (limit %d)", ErrLimit, name, size, lim.MaxEntrySize)
		}
		declared += int64(size)
		if declared > lim.MaxTotalSize {
			return nil, fmt.Errorf("%w: more than %d bytes uncompressed in total", ErrLimit, lim.MaxTotalSize)
		}
		if size > 64<<10 && (f.CompressedSize64 == 0 || size/f.CompressedSize64 > uint64(lim.MaxRatio)) {
			return nil, fmt.Errorf("%w: %s compression ratio above %d", ErrLimit, name, lim.MaxRatio)
		}
		p.Files[name] = nil
		p.Names = append(p.Names, name)
	}
	for _, f := range zr.File {
		if _, ok := p.Files[f.Name]; !ok {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("ofd: open %s: %w", f.Name, err)
		}
		// Never trust the declared size: read at most one byte more.
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("ofd: read %s: %w", f.Name, err)
		}
		if uint64(len(b)) != f.UncompressedSize64 {
			return nil, fmt.Errorf("%w: %s inflates to more than its declared size", ErrLimit, f.Name)
		}
		p.Files[f.Name] = b
	}
	return p, nil
}

func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || strings.ContainsRune(name, 0) {
		return fmt.Errorf("ofd: unsafe entry name %q", name)
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." || seg == "." || seg == "" {
			return fmt.Errorf("ofd: unsafe entry name %q", name)
		}
	}
	return nil
}

// Resolve turns an ST_Loc found in the file at from into a package name:
// absolute locations start at the package root, relative ones at from's
// directory. It fails for locations that leave the package.
func Resolve(from, loc string) (string, error) {
	loc = strings.TrimSpace(loc)
	if loc == "" {
		return "", errors.New("ofd: empty location")
	}
	var p string
	if strings.HasPrefix(loc, "/") {
		p = path.Clean(loc)[1:]
	} else {
		p = path.Clean(path.Join(path.Dir(from), loc))
	}
	if p == "" || p == "." || strings.HasPrefix(p, "../") || p == ".." {
		return "", fmt.Errorf("ofd: location %q leaves the package", loc)
	}
	return p, nil
}

// XML returns a file for XML parsing, enforcing MaxXMLSize.
func (p *Package) XML(name string, lim Limits) ([]byte, error) {
	b, ok := p.Files[name]
	return xmlFile(name, b, ok, lim)
}

// xmlFile checks a file found (ok) in a package before XML parsing: it must
// exist and stay within MaxXMLSize.
func xmlFile(name string, b []byte, ok bool, lim Limits) ([]byte, error) {
	if lim == (Limits{}) {
		lim = DefaultLimits
	}
	if !ok {
		return nil, fmt.Errorf("ofd: %s missing from the package", name)
	}
	if int64(len(b)) > lim.MaxXMLSize {
		return nil, fmt.Errorf("%w: %s is %d bytes (XML limit %d)", ErrLimit, name, len(b), lim.MaxXMLSize)
	}
	return b, nil
}
