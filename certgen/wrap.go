package certgen

import (
	"fmt"
	"strings"
)

// wrapBelow: a text that fits on one line at no less than this share of its
// size is shrunk; one that would need more is wrapped (Text.MaxLines > 1).
const wrapBelow = 0.9

// sizeStep is how far (pt) the size of a wrapped text goes down per try.
const sizeStep = 0.25

// fitText chooses the font size and the line breaks of a text whose runes
// advance ems (em units) each: one line at the template's size, else one
// line shrunk by up to a tenth, else wrapped onto at most MaxLines lines at
// the largest size (in steps of sizeStep) they fit, never below MinSize.
// lines holds [start, end) rune ranges.
func fitText(x Text, runes []rune, ems []float64) (size float64, lines [][2]int, err error) {
	one := [][2]int{{0, len(runes)}}
	total := 0.0
	for _, e := range ems {
		total += e
	}
	if x.MaxWidth <= 0 || total*x.Size/ptPerMM <= x.MaxWidth {
		return x.Size, one, nil
	}
	min := x.MinSize
	if min == 0 {
		min = x.Size * 0.75
	}
	oneSize := x.MaxWidth * ptPerMM / total // the size at which one line fits exactly
	if x.MaxLines <= 1 || oneSize >= x.Size*wrapBelow {
		if oneSize >= min {
			return oneSize, one, nil
		}
		if x.MaxLines <= 1 {
			return 0, nil, fmt.Errorf("is too long for the template (needs %.1f mm at %.1f pt, %.1f mm available)", total*min/ptPerMM, min, x.MaxWidth)
		}
	}
	for s := x.Size; s >= min-1e-9; s -= sizeStep {
		width := x.MaxWidth * ptPerMM / s // in em
		for _, prefer := range []bool{true, false} {
			if l := wrapLines(runes, ems, width, prefer); len(l) <= x.MaxLines {
				return s, l, nil
			}
		}
	}
	if oneSize >= min {
		return oneSize, one, nil
	}
	return 0, nil, fmt.Errorf("is too long for the template (%d lines of %.1f mm at %.1f pt are not enough)", x.MaxLines, x.MaxWidth, min)
}

// noLineStart are characters a line must not begin with (closing brackets
// and punctuation); opening are those a line should rather begin with.
const (
	noLineStart = "）)】」』，、。；：！？·"
	opening     = "（(【「『"
)

// wrapLines breaks runes into lines no wider than width (em) each, greedily,
// never starting a line with closing punctuation. With prefer, a line that
// must break does so before an opening bracket in its second half, so that
// "公司（分公司）" breaks before the bracket.
func wrapLines(runes []rune, ems []float64, width float64, prefer bool) [][2]int {
	var lines [][2]int
	start, w := 0, 0.0
	for i := 0; i < len(runes); i++ {
		if w+ems[i] <= width+1e-9 || i == start {
			w += ems[i]
			continue
		}
		brk := i
		for brk > start+1 && strings.ContainsRune(noLineStart, runes[brk]) {
			brk--
		}
		if prefer {
			for k := brk - 1; k > start+(brk-start)/2; k-- {
				if strings.ContainsRune(opening, runes[k]) {
					brk = k
					break
				}
			}
		}
		lines = append(lines, [2]int{start, brk})
		start, w = brk, 0
		for k := start; k <= i; k++ {
			w += ems[k]
		}
	}
	return append(lines, [2]int{start, len(runes)})
}
