package batchverify

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/signintech/gopdf"

	"github.com/ecert/ecert/certgen/fonts"
	"github.com/ecert/ecert/templates"
)

// Page geometry (points, A4 portrait).
const (
	pageW, pageH = 595.28, 841.89
	marginX      = 50.0
	marginTop    = 48.0
	marginBottom = 56.0
	textW        = pageW - 2*marginX
	lineGap      = 1.35 // line height as a multiple of the font size
	maxNameLines = 2
)

// SealRect is where page 1 shows the signature box, in PDF user space
// (llx, lly, urx, ury); the signature widget sits on it.
var SealRect = [4]float64{pageW - marginX - 110, pageH - marginTop - 62, pageW - marginX, pageH - marginTop}

// reportFonts are the report's fonts, first choice first: DejaVu Sans for
// Latin text, Droid Sans Fallback for the CJK unified ideographs of the
// BMP. A character neither has is printed as "?".
var reportFonts = []string{"DejaVuSans.ttf", "DroidSansFallbackFull.ttf"}

var loadFonts = sync.OnceValues(func() ([]*fonts.Font, error) {
	var out []*fonts.Font
	for _, name := range reportFonts {
		b, err := fs.ReadFile(templates.FS, "fonts/"+name)
		if err != nil {
			return nil, err
		}
		f, err := fonts.Parse(name, b)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
})

type rgb struct{ r, g, b uint8 }

var (
	black = rgb{0, 0, 0}
	grey  = rgb{90, 90, 90}
	green = rgb{0, 110, 40}
	red   = rgb{180, 0, 0}
	amber = rgb{160, 90, 0}
)

// seg is a run of text in one colour.
type seg struct {
	text  string
	color rgb
}

// line is one printed line.
type line struct {
	x, size float64
	segs    []seg
	rule    bool // a horizontal rule instead of text
	gap     float64
}

func (l line) height() float64 {
	if l.rule {
		return 8
	}
	return l.size*lineGap + l.gap
}

// block is lines kept on one page.
type block []line

// layout turns the batch into blocks; the first is the header.
type layout struct {
	fonts []*fonts.Font
}

func (lo *layout) width(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		r, i := lo.fontOf(r)
		f := lo.fonts[i]
		w += float64(f.RuneAdvance(r)) / float64(f.UnitsPerEm())
	}
	return w * size
}

// fontOf returns the rune as printed and the index of its font.
func (lo *layout) fontOf(r rune) (rune, int) {
	for i, f := range lo.fonts {
		if f.Has(r) {
			return r, i
		}
	}
	return '?', 0
}

// runs splits s into runs of one font each.
func (lo *layout) runs(s string) (texts []string, font []int) {
	var cur []rune
	last := -1
	for _, r := range s {
		r, i := lo.fontOf(r)
		if i != last && len(cur) > 0 {
			texts, font = append(texts, string(cur)), append(font, last)
			cur = cur[:0]
		}
		cur, last = append(cur, r), i
	}
	if len(cur) > 0 {
		texts, font = append(texts, string(cur)), append(font, last)
	}
	return texts, font
}

// wrap breaks s into lines of at most w points; with maxLines > 0 the last
// line kept ends in "…" when text was cut.
func (lo *layout) wrap(s string, size, w float64, maxLines int) []string {
	var out []string
	rs := []rune(s)
	for len(rs) > 0 {
		n, width := 0, 0.0
		for n < len(rs) {
			cw := lo.width(string(rs[n]), size)
			if width+cw > w && n > 0 {
				break
			}
			width += cw
			n++
		}
		// Prefer to break Latin text at a space.
		if n < len(rs) {
			if sp := lastSpace(rs[:n]); sp > n/2 {
				n = sp + 1
			}
		}
		if maxLines > 0 && len(out) == maxLines-1 && n < len(rs) {
			cut := rs[:n]
			for len(cut) > 0 && lo.width(string(cut)+"…", size) > w {
				cut = cut[:len(cut)-1]
			}
			out = append(out, string(cut)+"…")
			return out
		}
		out = append(out, strings.TrimRight(string(rs[:n]), " "))
		rs = rs[n:]
	}
	return out
}

func lastSpace(rs []rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == ' ' {
			return i
		}
	}
	return -1
}

func (lo *layout) para(b *block, x, size float64, c rgb, s string) {
	for _, t := range lo.wrap(s, size, textW-(x-marginX), 0) {
		*b = append(*b, line{x: x, size: size, segs: []seg{{t, c}}})
	}
}

// Signer describes the key that signs the report, for its header.
type Signer struct {
	Name   string // the service certificate's subject
	Serial string
}

var china = time.FixedZone("CST", 8*3600)

func (lo *layout) header(b *Batch, s Signer) block {
	var h block
	h = append(h, line{x: marginX, size: 20, segs: []seg{{"核验报告", black}}},
		line{x: marginX, size: 12, gap: 26, segs: []seg{{"Verification report", grey}}})
	field := func(label, v string) {
		lo.para(&h, marginX, 9.5, black, label+"："+v)
	}
	field("报告编号 Report ID", b.ID)
	t := b.VerifiedAt
	field("核验时间 Time of verification", t.In(china).Format("2006-01-02 15:04:05")+"（北京时间） "+t.UTC().Format(time.RFC3339))
	if s.Name != "" {
		field("核验方 Verified and signed by", s.Name+"（证书序列号 "+s.Serial+"）")
	}
	lo.para(&h, marginX, 9.5, black, "信任列表 Trust list：")
	if len(b.Trust) == 0 {
		lo.para(&h, marginX+12, 8.5, red, "无（未检查证书链）none: chains were not checked")
	}
	for _, tr := range b.Trust {
		lo.para(&h, marginX+12, 8.5, black, tr.Name)
		lo.para(&h, marginX+24, 7.5, grey, "SHA-256 "+tr.SHA256)
	}
	field("状态列表 Status list", b.StatusList)
	sum := fmt.Sprintf("共 %d 个文件：有效 %d，开发根证书 %d，已不在效力中 %d，无效 %d，无法读取 %d",
		len(b.Items), b.Valid, b.Development, b.NotCurrent, b.Invalid, b.Unreadable)
	lo.para(&h, marginX, 9.5, black, "结果 Summary："+sum)
	lo.para(&h, marginX, 8, grey, fmt.Sprintf("%d files: %d valid, %d valid with a development root, %d not current, %d invalid, %d unreadable",
		len(b.Items), b.Valid, b.Development, b.NotCurrent, b.Invalid, b.Unreadable))
	h = append(h, line{rule: true})
	return h
}

func verdictColor(v string) rgb {
	switch v {
	case "valid":
		return green
	case "valid-development-root", "not-current":
		return amber
	}
	return red
}

func (lo *layout) item(i int, it Item) block {
	var bl block
	prefix := fmt.Sprintf("%d. ", i+1)
	indent := marginX + lo.width(prefix, 10)
	for j, t := range lo.wrap(it.Name, 10, textW-(indent-marginX), maxNameLines) {
		l := line{x: indent, size: 10, segs: []seg{{t, black}}}
		if j == 0 {
			l.x, l.segs = marginX, []seg{{prefix + t, black}}
		}
		bl = append(bl, l)
	}
	digest := it.SM3
	if len(digest) > 16 {
		digest = digest[:8] + "…" + digest[len(digest)-8:]
	}
	kind := ""
	if it.Document != "" {
		kind = " · 核验报告 verification report"
	}
	bl = append(bl, line{x: indent, size: 9, segs: []seg{
		{fmt.Sprintf("SM3 %s · %d 字节 bytes%s · ", digest, it.Size, kind), grey},
		{VerdictName(it.Verdict), verdictColor(it.Verdict)},
	}})
	if f := it.failedText(); f != "" {
		lo.para(&bl, indent, 8.5, red, "未通过的检查 Failed checks："+f)
	}
	bl[len(bl)-1].gap = 5
	return bl
}

// page is the lines of one page, with their top y.
type page struct {
	lines []line
	ys    []float64
}

func paginate(blocks []block) []page {
	var pages []page
	var p page
	y := marginTop
	for _, b := range blocks {
		h := 0.0
		for _, l := range b {
			h += l.height()
		}
		if y+h > pageH-marginBottom && len(p.lines) > 0 {
			pages = append(pages, p)
			p, y = page{}, marginTop
		}
		for _, l := range b {
			// A block taller than a page (never, with the names bounded)
			// still breaks rather than runs off the page.
			if y+l.height() > pageH-marginBottom && len(p.lines) > 0 {
				pages = append(pages, p)
				p, y = page{}, marginTop
			}
			p.lines, p.ys = append(p.lines, l), append(p.ys, y)
			y += l.height()
		}
	}
	return append(pages, p)
}

// Render lays the batch out as an unsigned PDF of as many A4 pages as it
// needs. Sign it with Sign.
func Render(b *Batch, s Signer) ([]byte, error) {
	faces, err := loadFonts()
	if err != nil {
		return nil, fmt.Errorf("batchverify: font: %w", err)
	}
	lo := &layout{fonts: faces}
	blocks := []block{lo.header(b, s)}
	for i, it := range b.Items {
		blocks = append(blocks, lo.item(i, it))
	}
	pages := paginate(blocks)
	footers := make([]string, len(pages))
	for i := range pages {
		footers[i] = fmt.Sprintf("ecert 核验报告 %s · 第 %d / %d 页 page %d of %d · 以核验服务 SM2 密钥签名，可用 ecert verify 核验", b.ID, i+1, len(pages), i+1, len(pages))
	}
	seal := []string{"SM2 电子签名", "核验服务", "Signed by the", "verification service"}

	// Subset each font to the characters printed in it.
	used := make([]map[rune]bool, len(faces))
	for i := range used {
		used[i] = map[rune]bool{}
	}
	add := func(s string) {
		for _, r := range s {
			r, i := lo.fontOf(r)
			used[i][r] = true
		}
	}
	for _, p := range pages {
		for _, l := range p.lines {
			for _, sg := range l.segs {
				add(sg.text)
			}
		}
	}
	for _, s := range append(footers, seal...) {
		add(s)
	}
	gp := &gopdf.GoPdf{}
	gp.Start(gopdf.Config{Unit: gopdf.UnitPT, PageSize: gopdf.Rect{W: pageW, H: pageH}})
	gp.SetCompressLevel(zlib.BestSpeed)
	gp.SetInfo(gopdf.PdfInfo{Title: "核验报告 Verification report " + b.ID, Creator: "ecert", Producer: "ecert batchverify (gopdf)",
		CreationDate: b.VerifiedAt})
	family := make([]string, len(faces))
	for i, f := range faces {
		if len(used[i]) == 0 {
			continue
		}
		runes := make([]rune, 0, len(used[i]))
		for r := range used[i] {
			runes = append(runes, r)
		}
		sort.Slice(runes, func(a, b int) bool { return runes[a] < runes[b] })
		sub, err := f.Subset(runes)
		if err != nil {
			return nil, fmt.Errorf("batchverify: font subset: %w", err)
		}
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
		zw.Write(sub)
		zw.Close()
		family[i] = fmt.Sprintf("ECERT%c+%s", 'A'+i, strings.TrimSuffix(strings.TrimSuffix(reportFonts[i], ".ttf"), "Full"))
		if err := gp.AddTTFFontDataWithOption(family[i], sub, gopdf.TtfOption{Style: gopdf.Regular,
			OnGlyphNotFoundSubstitute: gopdf.DefaultOnGlyphNotFoundSubstitute,
			EmbedProgram:              &gopdf.FontProgram{Zlib: z.Bytes(), Length1: len(sub)}}); err != nil {
			return nil, fmt.Errorf("batchverify: PDF font: %w", err)
		}
	}
	text := func(x, y, size float64, c rgb, s string) error {
		gp.SetTextColor(c.r, c.g, c.b)
		texts, font := lo.runs(s)
		for k, t := range texts {
			if err := gp.SetFont(family[font[k]], "", size); err != nil {
				return err
			}
			gp.SetXY(x, y)
			if err := gp.Text(t); err != nil {
				return err
			}
			x += lo.width(t, size)
		}
		return nil
	}
	for i, p := range pages {
		gp.AddPage()
		for j, l := range p.lines {
			y := p.ys[j]
			if l.rule {
				gp.SetStrokeColor(120, 120, 120)
				gp.SetLineWidth(0.6)
				gp.Line(marginX, y+4, pageW-marginX, y+4)
				continue
			}
			x := l.x
			for _, sg := range l.segs {
				// gopdf places text by its baseline.
				if err := text(x, y+l.size, l.size, sg.color, sg.text); err != nil {
					return nil, fmt.Errorf("batchverify: PDF text: %w", err)
				}
				x += lo.width(sg.text, l.size)
			}
		}
		if i == 0 {
			r := SealRect
			gp.SetStrokeColor(180, 0, 0)
			gp.SetLineWidth(1.2)
			gp.RectFromUpperLeftWithStyle(r[0], pageH-r[3], r[2]-r[0], r[3]-r[1], "D")
			for k, s := range seal {
				size := 10.0
				if k >= 2 {
					size = 7.5
				}
				w := lo.width(s, size)
				if err := text((r[0]+r[2]-w)/2, pageH-r[3]+14+float64(k)*13, size, red, s); err != nil {
					return nil, fmt.Errorf("batchverify: PDF text: %w", err)
				}
			}
		}
		if err := text(marginX, pageH-marginBottom+28, 7, grey, footers[i]); err != nil {
			return nil, fmt.Errorf("batchverify: PDF text: %w", err)
		}
	}
	var out bytes.Buffer
	if _, err := gp.WriteTo(&out); err != nil {
		return nil, fmt.Errorf("batchverify: write PDF: %w", err)
	}
	return out.Bytes(), nil
}
