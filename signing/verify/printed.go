package verify

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// CheckPrintedUsage compares the usage validity printed on a usage copy's
// page with its signed metadata.
const CheckPrintedUsage = "printed-usage-validity"

// printedUsageLabel starts the annotation certgen prints on a usage copy:
// "使用有效期：YYYY年MM月DD日至YYYY年MM月DD日".
const printedUsageLabel = "使用有效期"

var printedUsageRE = regexp.MustCompile(`使用有效期\s*[：:]\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:至|到|-|–|—|~|～)\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日`)

// maxPrintedMatches bounds the annotations compared.
const maxPrintedMatches = 16

func isoDate(y, m, d string) string {
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	return fmt.Sprintf("%s-%02d-%02d", y, mi, di)
}

// printedUsage finds every printed usage validity in text as YYYY-MM-DD
// pairs.
func printedUsage(text string) [][2]string {
	if !strings.Contains(text, printedUsageLabel) {
		return nil
	}
	var out [][2]string
	for _, m := range printedUsageRE.FindAllStringSubmatch(text, maxPrintedMatches) {
		out = append(out, [2]string{isoDate(m[1], m[2], m[3]), isoDate(m[4], m[5], m[6])})
	}
	return out
}

// checkPrinted adds the printed-usage-validity check: the page text (as
// extracted, with the extraction's problems and fatal error) must carry at
// least one printed usage validity, and every one printed must equal the
// signed dates.
func (r *Report) checkPrinted(text string, problems []string, err error) {
	signed := fmt.Sprintf("%s – %s", r.UsageValidFrom, r.UsageValidUntil)
	if err != nil {
		r.add(CheckPrintedUsage, fmt.Errorf("cannot read the page text to compare with the signed usage validity %s: %w", signed, err), "")
		return
	}
	found := printedUsage(text)
	if len(found) == 0 {
		why := ""
		if len(problems) > 0 {
			if len(problems) > 3 {
				problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
			}
			why = " (text extraction: " + strings.Join(problems, "; ") + ")"
		}
		r.add(CheckPrintedUsage, fmt.Errorf("no printed usage validity (%s：…至…) on the page; signed usage validity %s%s", printedUsageLabel, signed, why), "")
		return
	}
	r.PrintedUsageValidFrom, r.PrintedUsageValidUntil = found[0][0], found[0][1]
	var bad []string
	for _, p := range found {
		if p[0] != r.UsageValidFrom || p[1] != r.UsageValidUntil {
			bad = append(bad, fmt.Sprintf("%s – %s", p[0], p[1]))
			if r.PrintedUsageValidFrom == r.UsageValidFrom && r.PrintedUsageValidUntil == r.UsageValidUntil {
				r.PrintedUsageValidFrom, r.PrintedUsageValidUntil = p[0], p[1]
			}
		}
	}
	if len(bad) > 0 {
		r.add(CheckPrintedUsage, fmt.Errorf("printed usage validity %s differs from the signed usage validity %s", strings.Join(bad, ", "), signed), "")
		return
	}
	r.add(CheckPrintedUsage, nil, fmt.Sprintf("printed usage validity %s matches the signed metadata", signed))
}
