// Package sampledata generates realistic approved registrations for demos,
// tests and benchmarks: valid ID check digits and credit codes, real specialty
// names, Chinese names that include rare characters (堃, 喆, 䶮 and the CJK
// Extension B character 𠮷), and long employer names.
//
// Output is deterministic for a given seed. The ID numbers are synthetic:
// they pass the GB 11643 check but belong to nobody.
package sampledata

import (
	"fmt"
	"math/rand/v2"

	"github.com/ecert/ecert/intake"
	"github.com/ecert/ecert/registration"
)

var (
	surnames = []string{"张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "欧阳", "司马", "上官"}
	given    = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平",
		"刚", "桂英", "堃", "喆", "䶮", "𠮷", "昊", "晗", "祎", "璟", "翀", "燊", "淼", "犇", "鑫", "垚", "彧", "昶", "珺", "旸"}
	// rare holds the characters every sample set must exercise.
	rare      = []string{"堃", "喆", "䶮", "𠮷"}
	regions   = []string{"210102", "210103", "210202", "210204", "210302", "210402", "210502", "210602", "210702", "210802", "210902", "211002", "211102", "211202", "211302", "211402"}
	cities    = []string{"沈阳", "大连", "鞍山", "抚顺", "本溪", "丹东", "锦州", "营口", "阜新", "辽阳", "铁岭", "朝阳", "盘锦", "葫芦岛"}
	employers = []string{
		"%s市政工程建设集团有限公司",
		"中国建筑第八工程局有限公司%s分公司",
		"%s路桥建设发展股份有限公司",
		"辽宁省%s水利水电工程建设监理有限责任公司",
		"%s城市建设投资集团第三建筑工程有限公司机电安装分公司",
		"中铁九局集团第%s工程有限公司",
		"%s矿山机电设备安装工程有限公司",
		"东北电力建设（%s）机电工程技术有限公司",
	}
)

// Options shape a generated set.
type Options struct {
	Seed uint64
	// Base is the approval date of the first record; later records are spread over a year from it.
	Base registration.Date
	// Prefix starts every case id (default "LN").
	Prefix string
	// Offset numbers the records from Offset+1, so that sets generated in
	// chunks have distinct case ids and registration numbers.
	Offset int
}

// Generate returns n approvals. Every record passes intake validation, and the
// first records carry each of the rare name characters.
func Generate(n int, opt Options) []intake.Approval {
	if opt.Base.IsZero() {
		opt.Base = registration.NewDate(2025, 3, 1)
	}
	if opt.Prefix == "" {
		opt.Prefix = "LN"
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15))
	out := make([]intake.Approval, n)
	for i := range out {
		out[i] = record(rng, opt.Offset+i, opt)
	}
	return out
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func record(rng *rand.Rand, i int, opt Options) intake.Approval {
	name := pick(rng, surnames) + pick(rng, given)
	if rng.IntN(2) == 0 {
		name += pick(rng, given)
	}
	if i < len(rare) {
		name = pick(rng, surnames) + rare[i]
		if i%2 == 1 {
			name += pick(rng, given[:20])
		}
	}
	birth := registration.NewDate(1962+rng.IntN(38), 1, 1).AddDays(rng.IntN(365))
	approved := opt.Base.AddDays(rng.IntN(365))
	validFrom := approved
	validUntil := validFrom.AddYears(3).AddDays(-1)
	city := pick(rng, cities)

	typ := registration.Initial
	switch r := rng.IntN(20); {
	case r < 3:
		typ = registration.Renewal
	case r < 5:
		typ = registration.Change
	case r < 6:
		typ = registration.LostReissue
	case r < 7:
		typ = registration.AddSpecialty
	}
	a := intake.Approval{
		CaseID:       fmt.Sprintf("%s-%d-%07d", opt.Prefix, approved.Year, i+1),
		BusinessType: typ,
		ApprovedOn:   approved,
		Person: intake.PersonRecord{
			Name:     name,
			IDNumber: IDNumber(pick(rng, regions), birth, rng.IntN(999)+1),
			Phone:    fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000)),
		},
		Registration: intake.RegistrationRecord{
			Number: fmt.Sprintf("辽2%02d%04d%06d", 11+rng.IntN(14), approved.Year, i+1),
			Employer: registration.Employer{
				Name:       fmt.Sprintf(pick(rng, employers), city),
				CreditCode: CreditCode(rng),
			},
			ValidFrom:  validFrom,
			ValidUntil: validUntil,
		},
		Qualification: &intake.QualificationRecord{
			CertificateNo: fmt.Sprintf("LN%04d%08d", approved.Year-1-rng.IntN(5), rng.IntN(100_000_000)),
			ApprovalDate:  approved.AddDays(-400 - rng.IntN(900)),
		},
	}
	a.Qualification.IssueDate = a.Qualification.ApprovalDate.AddDays(20 + rng.IntN(40))
	if typ.NeedsPublicNotice() {
		a.NoticeEnd = approved.AddDays(7 + rng.IntN(8))
	}
	nspec := 1 + rng.IntN(3)
	perm := rng.Perm(len(registration.Specialties))
	for _, k := range perm[:nspec] {
		s := registration.Specialties[k]
		a.Registration.Specialties = append(a.Registration.Specialties, intake.SpecialtyRecord{Code: s.Code, Name: s.Name, ValidUntil: validUntil})
	}
	a.Qualification.Specialty = a.Registration.Specialties[0].Name
	return a
}

// IDNumber builds a synthetic resident ID number with a valid check character.
func IDNumber(region string, birth registration.Date, seq int) string {
	first := fmt.Sprintf("%s%04d%02d%02d%03d", region, birth.Year, birth.Month, birth.Day, seq%1000)
	c, err := registration.IDCheckChar(first)
	if err != nil {
		panic(err) // region and date are ours: a failure here is a bug
	}
	return first + string(c)
}

const creditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// CreditCode returns a random unified social credit code (GB 32100) for an
// enterprise registered in Liaoning, with a valid check character.
func CreditCode(rng *rand.Rand) string {
	b := []byte("91" + pick(rng, regions))
	for len(b) < 17 {
		b = append(b, creditChars[rng.IntN(len(creditChars))])
	}
	c, err := registration.CreditCodeCheckChar(string(b))
	if err != nil {
		panic(err) // the alphabet is ours: a failure here is a bug
	}
	return string(append(b, c))
}
