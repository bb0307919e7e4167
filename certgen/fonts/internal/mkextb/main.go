// Command mkextb builds templates/fonts/HanaMinB-subset.ttf, the fallback font
// for CJK Extension B and later characters, from Debian's fonts-hanazono
// HanaMinB.ttf (30 MB) and the Unihan database of Debian's unicode-data.
//
// It keeps the supplementary-plane ideographs that Chinese records can hold:
// those of the Table of General Standard Chinese Characters (kTGH), the
// International Ideographs Core (kIICore), the Chinese government's urgently
// needed characters (kIRG_GSource "GU-..."), and every character listed in
// templates/fonts/extb-extra.txt (add a name character there and re-run).
//
//	go run ./certgen/fonts/internal/mkextb
package main

import (
	"bufio"
	"compress/bzip2"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ecert/ecert/certgen/fonts"
)

func main() {
	src := flag.String("font", "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", "source font (apt-get install fonts-hanazono)")
	unihan := flag.String("unihan", "/usr/share/unicode", "directory with Unihan_*.txt.bz2 (apt-get install unicode-data)")
	extra := flag.String("extra", "templates/fonts/extb-extra.txt", "extra characters, one or more per line, # comments")
	out := flag.String("out", "templates/fonts/HanaMinB-subset.ttf", "output font")
	flag.Parse()

	data, err := os.ReadFile(*src)
	if err != nil {
		log.Fatal(err)
	}
	f, err := fonts.Parse(filepath.Base(*src), data)
	if err != nil {
		log.Fatal(err)
	}
	want := map[rune]bool{}
	files, _ := filepath.Glob(filepath.Join(*unihan, "Unihan_*.txt.bz2"))
	for _, fn := range files {
		fh, err := os.Open(fn)
		if err != nil {
			log.Fatal(err)
		}
		sc := bufio.NewScanner(bzip2.NewReader(fh))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			fs := strings.Split(sc.Text(), "\t")
			if len(fs) < 3 || !strings.HasPrefix(fs[0], "U+") {
				continue
			}
			keep := fs[1] == "kTGH" || fs[1] == "kIICore" || (fs[1] == "kIRG_GSource" && strings.HasPrefix(fs[2], "GU"))
			if !keep {
				continue
			}
			v, err := strconv.ParseUint(fs[0][2:], 16, 32)
			if err == nil && v >= 0x20000 {
				want[rune(v)] = true
			}
		}
		fh.Close()
	}
	if ex, err := os.ReadFile(*extra); err == nil {
		for _, line := range strings.Split(string(ex), "\n") {
			line, _, _ = strings.Cut(line, "#")
			for _, r := range strings.TrimSpace(line) {
				want[r] = true
			}
		}
	} else {
		log.Fatal(err)
	}
	var rs []rune
	for r := range want {
		if f.Has(r) {
			rs = append(rs, r)
		} else {
			fmt.Fprintf(os.Stderr, "mkextb: %s has no glyph for U+%04X, skipped\n", *src, r)
		}
	}
	b, err := f.Subset(rs)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("mkextb: %d characters, %d bytes -> %s\n", len(rs), len(b), *out)
}
