package registration

import (
	"reflect"
	"strings"
	"testing"
)

// Test fixtures: a person born 1990-01-01 with a 建筑工程 qualification
// approved 2019-09-20 and issued 2019-10-08, registered until 2025-06-01.
const testID = "210102199001011237"

var testQual = Qualification{CertificateNo: "BJ00123456", IDNumber: testID, Specialty: "建筑工程",
	ApprovalDate: MustDate("2019-09-20"), IssueDate: MustDate("2019-10-08")}

func testReg(validUntil string) *Registration {
	e := MustDate(validUntil)
	return &Registration{
		Number: "辽221201900001", IDNumber: testID,
		Employer:    Employer{Name: "沈阳建设集团有限公司", CreditCode: "91210100MA0Q123456"},
		Specialties: []RegisteredSpecialty{{Specialty: Specialties[0], ValidUntil: e}},
		ValidFrom:   e.AddYears(-3).AddDays(1), ValidUntil: e, Status: RegistrationActive,
	}
}

func input(t BusinessType, submitted string, reg *Registration) CheckInput {
	return CheckInput{
		Type: t, Account: NaturalPerson, SubmittedOn: MustDate(submitted), IDNumber: testID,
		QuotedApprovalDate: testQual.ApprovalDate, Registration: reg, Qualifications: []Qualification{testQual},
	}
}

type ruleCase struct {
	name  string
	in    CheckInput
	codes []string // nil: allowed
	// texts must all appear in the message of the first refusal
	texts []string
}

func runRuleCases(t *testing.T, cases []ruleCase) {
	t.Helper()
	p := DefaultPolicy()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := Check(tc.in, p)
			got := v.Codes()
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tc.codes) {
				t.Fatalf("codes = %v, want %v; refusals: %+v", got, tc.codes, v.Refusals)
			}
			if v.Allowed() != (len(tc.codes) == 0) || (v.Err() == nil) != v.Allowed() {
				t.Fatalf("Allowed/Err disagree with refusals")
			}
			for _, s := range tc.texts {
				if !strings.Contains(v.Refusals[0].Message, s) {
					t.Errorf("message %q does not contain %q", v.Refusals[0].Message, s)
				}
			}
		})
	}
}

func TestRule1RenewalWindow(t *testing.T) {
	// E = 2025-06-01; allowed iff 5 <= E - d <= 30, i.e. d in 2025-05-02..2025-05-27.
	reg := testReg("2025-06-01")
	window := "即 2025-05-02 至 2025-05-27 期间"
	runRuleCases(t, []ruleCase{
		{"31 days before: too early", input(Renewal, "2025-05-01", reg), []string{RefuseRenewalWindow}, []string{window, "注册有效期至 2025-06-01", "申报日期 2025-05-01"}},
		{"30 days before: first day", input(Renewal, "2025-05-02", reg), nil, nil},
		{"5 days before: last day", input(Renewal, "2025-05-27", reg), nil, nil},
		{"4 days before: too late", input(Renewal, "2025-05-28", reg), []string{RefuseRenewalWindow}, []string{window}},
		{"valid-until itself", input(Renewal, "2025-06-01", reg), []string{RefuseRenewalWindow}, []string{window}},
		{"expired", input(Renewal, "2025-06-02", reg), []string{RefuseRegistrationExpired, RefuseRenewalWindow},
			[]string{"注册有效期至 2025-06-01", "自 2025-06-02 起自动注销", "只能申报重新注册"}},
	})
	v := Check(input(Renewal, "2025-05-01", reg), DefaultPolicy())
	want := map[string]Date{"window_from": MustDate("2025-05-02"), "window_to": MustDate("2025-05-27"),
		"valid_until": MustDate("2025-06-01"), "submitted_on": MustDate("2025-05-01")}
	if !reflect.DeepEqual(v.Refusals[0].Dates, want) {
		t.Errorf("dates = %v, want %v", v.Refusals[0].Dates, want)
	}
}

func TestRule7ExtensionBoundariesInRenewal(t *testing.T) {
	runRuleCases(t, []ruleCase{
		// 2022-03-11 is the day before the extension range: not extended.
		{"03-11 last day of its own window", input(Renewal, "2022-03-06", testReg("2022-03-11")), nil, nil},
		{"03-11 not extended, expired in July", input(Renewal, "2022-07-01", testReg("2022-03-11")),
			[]string{RefuseRegistrationExpired, RefuseRenewalWindow}, []string{"注册有效期至 2022-03-11"}},
		// 2022-03-12 and 2022-06-30 (first and last day of the range) run to 2022-07-31:
		// renewal window 2022-07-01..2022-07-26.
		{"03-12 extended: 30 days before 07-31", input(Renewal, "2022-07-01", testReg("2022-03-12")), nil, nil},
		{"03-12 extended: 31 days before 07-31", input(Renewal, "2022-06-30", testReg("2022-03-12")), []string{RefuseRenewalWindow},
			[]string{"即 2022-07-01 至 2022-07-26 期间", "注册有效期至 2022-07-31（原有效期至 2022-03-12，已按政策延期）"}},
		{"06-30 extended: 5 days before 07-31", input(Renewal, "2022-07-26", testReg("2022-06-30")), nil, nil},
		{"06-30 extended: 4 days before 07-31", input(Renewal, "2022-07-27", testReg("2022-06-30")), []string{RefuseRenewalWindow},
			[]string{"即 2022-07-01 至 2022-07-26 期间", "原有效期至 2022-06-30"}},
		// 2022-07-01 is the day after the range: not extended.
		{"07-01 not extended: 30 days", input(Renewal, "2022-06-01", testReg("2022-07-01")), nil, nil},
		{"07-01 not extended: 4 days", input(Renewal, "2022-06-27", testReg("2022-07-01")), []string{RefuseRenewalWindow},
			[]string{"即 2022-06-01 至 2022-06-26 期间", "（注册有效期至 2022-07-01，申报日期"}},
	})
}

func TestRule2Expiry(t *testing.T) {
	reg := testReg("2025-06-01")
	cancelled := testReg("2025-06-01")
	cancelled.Status, cancelled.CancelledOn, cancelled.CancelReason = RegistrationCancelled, MustDate("2025-06-02"), "注册有效期届满未延续，自动注销"
	addRoad := func(in CheckInput) CheckInput {
		in.Specialty = "公路工程"
		in.QuotedApprovalDate = MustDate("2021-09-01")
		in.Qualifications = append(in.Qualifications, Qualification{IDNumber: testID, Specialty: "公路工程",
			ApprovalDate: MustDate("2021-09-01"), IssueDate: MustDate("2021-10-01")})
		return in
	}
	runRuleCases(t, []ruleCase{
		{"change on the last valid day's eve is a change-window case", input(Change, "2025-06-01", reg), []string{RefuseChangeWindow}, nil},
		{"change the day after valid-until", input(Change, "2025-06-02", reg), []string{RefuseRegistrationExpired, RefuseChangeWindow},
			[]string{"不能申报变更注册，只能申报重新注册"}},
		{"add specialty on valid-until", addRoad(input(AddSpecialty, "2025-06-01", reg)), nil, nil},
		{"add specialty after expiry", addRoad(input(AddSpecialty, "2025-06-02", reg)), []string{RefuseRegistrationExpired}, []string{"不能申报增项注册"}},
		{"lost reissue after expiry", input(LostReissue, "2025-06-02", reg), []string{RefuseRegistrationExpired}, nil},
		{"cancellation after expiry", input(Cancellation, "2025-06-02", reg), []string{RefuseRegistrationExpired}, nil},
		{"renewal of a cancelled registration", input(Renewal, "2025-05-20", cancelled), []string{RefuseRegistrationCancelled},
			[]string{"已于 2025-06-02 注销（注册有效期届满未延续，自动注销）", "只能申报重新注册"}},
		{"re-registration after expiry", input(Reregistration, "2025-06-02", reg), nil, nil},
		{"re-registration after cancellation", input(Reregistration, "2025-06-10", cancelled), nil, nil},
		{"re-registration while still active", input(Reregistration, "2025-06-01", reg), []string{RefuseRegistrationStillActive},
			[]string{"注册有效期至 2025-06-01"}},
		{"re-registration without any registration", input(Reregistration, "2025-06-01", nil), []string{RefuseNoPreviousRegistration}, nil},
		{"renewal without registration", input(Renewal, "2025-06-01", nil), []string{RefuseRegistrationNotFound}, []string{"不能申报延续注册"}},
		// An extended registration is still active inside its extension.
		{"change inside the 2022 extension", input(Change, "2022-07-01", testReg("2022-04-01")), nil, nil},
		{"re-registration inside the 2022 extension", input(Reregistration, "2022-07-01", testReg("2022-04-01")), []string{RefuseRegistrationStillActive},
			[]string{"注册有效期至 2022-07-31（原有效期至 2022-04-01"}},
	})
}

func TestRule3Age(t *testing.T) {
	born := idWithCheck("21010219600315123") // 65th birthday 2025-03-15
	leap := idWithCheck("21010219600229123") // born on 29 February
	feb28 := idWithCheck("21010219600228123")
	mar1 := idWithCheck("21010219600301123")
	person := func(id, submitted string) CheckInput {
		in := input(LostReissue, submitted, testReg("2027-01-01"))
		in.IDNumber, in.Registration.IDNumber = id, id
		in.Qualifications[0].IDNumber = id
		return in
	}
	runRuleCases(t, []ruleCase{
		{"day before the 65th birthday", person(born, "2025-03-14"), nil, nil},
		{"65th birthday itself", person(born, "2025-03-15"), nil, nil},
		{"day after the 65th birthday", person(born, "2025-03-16"), []string{RefuseAgeOver65},
			[]string{"年龄超过65周岁", "65周岁生日为 2025-03-15", "申报日期为 2025-03-16"}},
		// Born on 29 February: 2025 has no 29 February, so under Civil Code
		// art. 201 the 65th birthday is the last day of February, 2025-02-28.
		{"leap-day birth: 27 February", person(leap, "2025-02-27"), nil, nil},
		{"leap-day birth: 28 February is the birthday", person(leap, "2025-02-28"), nil, nil},
		{"leap-day birth: 1 March refused", person(leap, "2025-03-01"), []string{RefuseAgeOver65},
			[]string{"65周岁生日为 2025-02-28", "申报日期为 2025-03-01"}},
		{"leap-day birth: 2 March refused", person(leap, "2025-03-02"), []string{RefuseAgeOver65}, []string{"65周岁生日为 2025-02-28"}},
		{"born 28 February: birthday", person(feb28, "2025-02-28"), nil, nil},
		{"born 28 February: 1 March refused", person(feb28, "2025-03-01"), []string{RefuseAgeOver65}, []string{"65周岁生日为 2025-02-28"}},
		{"born 1 March: 28 February", person(mar1, "2025-02-28"), nil, nil},
		{"born 1 March: birthday", person(mar1, "2025-03-01"), nil, nil},
		{"born 1 March: 2 March refused", person(mar1, "2025-03-02"), []string{RefuseAgeOver65}, []string{"65周岁生日为 2025-03-01"}},
		{"any business, even cancellation", func() CheckInput { in := person(born, "2025-03-16"); in.Type = Cancellation; return in }(),
			[]string{RefuseAgeOver65}, nil},
		{"invalid ID number", func() CheckInput { in := person(born, "2025-03-16"); in.IDNumber = "210102196003151230"; return in }(),
			[]string{RefuseInvalidIDNumber}, nil},
	})
}

func TestRule4ChangeWindow(t *testing.T) {
	reg := testReg("2025-06-01")
	runRuleCases(t, []ruleCase{
		{"11 days before", input(Change, "2025-05-21", reg), nil, nil},
		{"10 days before: allowed", input(Change, "2025-05-22", reg), nil, nil},
		{"9 days before: refused", input(Change, "2025-05-23", reg), []string{RefuseChangeWindow},
			[]string{"距注册有效期到期不足10天", "最迟应在 2025-05-22 申报", "注册有效期至 2025-06-01", "申报日期 2025-05-23"}},
		// With the 2022 extension E = 2022-07-31: last day 2022-07-21.
		{"extended: 10 days", input(Change, "2022-07-21", testReg("2022-06-30")), nil, nil},
		{"extended: 9 days", input(Change, "2022-07-22", testReg("2022-06-30")), []string{RefuseChangeWindow},
			[]string{"最迟应在 2022-07-21 申报", "原有效期至 2022-06-30"}},
	})
}

func TestRule5QualificationLibrary(t *testing.T) {
	withQuoted := func(in CheckInput, d string) CheckInput {
		in.QuotedApprovalDate = Date{}
		if d != "" {
			in.QuotedApprovalDate = MustDate(d)
		}
		return in
	}
	noQuals := input(Initial, "2025-01-10", nil)
	noQuals.Qualifications = nil
	otherPerson := input(Initial, "2025-01-10", nil)
	otherPerson.Qualifications = []Qualification{{IDNumber: "11010519491231002X", Specialty: "建筑工程", ApprovalDate: testQual.ApprovalDate}}
	twoQuals := input(Initial, "2025-01-10", nil)
	twoQuals.Qualifications = append(twoQuals.Qualifications, Qualification{IDNumber: testID, Specialty: "机电工程",
		ApprovalDate: MustDate("2021-09-01"), IssueDate: MustDate("2021-10-01")})
	runRuleCases(t, []ruleCase{
		{"approval date correct", input(Initial, "2025-01-10", nil), nil, nil},
		{"ID not in the library", noQuals, []string{RefuseQualificationNotFound}, []string{"请联系技术支持", "024-83988821"}},
		{"library entries of someone else", otherPerson, []string{RefuseQualificationNotFound}, nil},
		{"issue date quoted", withQuoted(input(Initial, "2025-01-10", nil), "2019-10-08"), []string{RefuseApprovalDateIsIssueDate},
			[]string{"填写的是资格证书签发日期（2019-10-08），应填写资格证书批准日期（2019-09-20）"}},
		{"other wrong date", withQuoted(input(Initial, "2025-01-10", nil), "2019-09-21"), []string{RefuseApprovalDateMismatch},
			[]string{"填写的是 2019-09-21，资格库中的批准日期为 2019-09-20"}},
		{"missing for initial", withQuoted(input(Initial, "2025-01-10", nil), ""), []string{RefuseApprovalDateMissing}, nil},
		{"not required for renewal", withQuoted(input(Renewal, "2025-05-10", testReg("2025-06-01")), ""), nil, nil},
		{"still checked for renewal when given", withQuoted(input(Renewal, "2025-05-10", testReg("2025-06-01")), "2019-10-08"),
			[]string{RefuseApprovalDateIsIssueDate}, nil},
		{"second qualification's date", withQuoted(twoQuals, "2021-09-01"), nil, nil},
		{"specialty picks the qualification", func() CheckInput { in := withQuoted(twoQuals, "2019-09-20"); in.Specialty = "机电工程"; return in }(),
			[]string{RefuseApprovalDateMismatch}, []string{"资格库中的批准日期为 2021-09-01"}},
		{"specialty not qualified", func() CheckInput { in := input(Initial, "2025-01-10", nil); in.Specialty = "10401002"; return in }(),
			[]string{RefuseQualificationSpecialty}, []string{"没有该人员的公路工程专业资格证书"}},
		{"unknown specialty", func() CheckInput { in := input(Initial, "2025-01-10", nil); in.Specialty = "桥梁"; return in }(),
			[]string{RefuseUnknownSpecialty}, nil},
	})
}

func TestRule6NaturalPersonOnly(t *testing.T) {
	ent := input(Renewal, "2025-05-10", testReg("2025-06-01"))
	ent.Account = Enterprise
	unknown := ent
	unknown.Account = ""
	runRuleCases(t, []ruleCase{
		{"natural person", input(Renewal, "2025-05-10", testReg("2025-06-01")), nil, nil},
		{"enterprise account", ent, []string{RefuseEnterpriseAccount}, []string{"不可以使用企业账号申报", "自然人"}},
		{"unknown account kind", unknown, []string{RefuseUnknownAccount}, nil},
	})
}

func TestRegistrationStateRules(t *testing.T) {
	reg := testReg("2025-06-01")
	cancelled := testReg("2025-06-01")
	cancelled.Status = RegistrationCancelled
	mismatch := testReg("2025-06-01")
	mismatch.IDNumber = "11010519491231002X"
	runRuleCases(t, []ruleCase{
		{"initial without registration", input(Initial, "2025-01-10", nil), nil, nil},
		{"initial with an active registration", input(Initial, "2025-01-10", reg), []string{RefuseAlreadyRegistered},
			[]string{"注册编号 辽221201900001", "注册有效期至 2025-06-01", "增项注册"}},
		{"initial after cancellation", input(Initial, "2025-07-10", cancelled), []string{RefuseUseReregistration}, []string{"请申报重新注册"}},
		{"add a specialty already registered", func() CheckInput {
			in := input(AddSpecialty, "2025-01-10", reg)
			in.Specialty = "建筑工程"
			return in
		}(),
			[]string{RefuseSpecialtyAlreadyRegistered}, []string{"已注册建筑工程专业"}},
		{"registration of another person", input(Renewal, "2025-05-10", mismatch), []string{RefuseRegistrationPerson, RefuseRegistrationNotFound}, nil},
		{"unknown business type", func() CheckInput { in := input(Renewal, "2025-05-10", reg); in.Type = "upgrade"; return in }(),
			[]string{RefuseInvalidBusinessType}, nil},
		{"missing submission date", func() CheckInput { in := input(Renewal, "2025-05-10", reg); in.SubmittedOn = Date{}; return in }(),
			[]string{RefuseMissingSubmissionDate}, nil},
	})
}

func TestCheckReturnsAllReasons(t *testing.T) {
	// Enterprise account, over 65, issue date quoted, outside the renewal window.
	id := idWithCheck("21010219500101123") // 65th birthday 2015-01-01
	reg := testReg("2025-06-01")
	reg.IDNumber = id
	in := input(Renewal, "2025-05-30", reg)
	in.IDNumber, in.Account = id, Enterprise
	in.Qualifications[0].IDNumber = id
	in.QuotedApprovalDate = testQual.IssueDate
	v := Check(in, DefaultPolicy())
	want := []string{RefuseEnterpriseAccount, RefuseAgeOver65, RefuseApprovalDateIsIssueDate, RefuseRenewalWindow}
	if !reflect.DeepEqual(v.Codes(), want) {
		t.Fatalf("codes = %v, want %v", v.Codes(), want)
	}
	for _, c := range want {
		if !v.Has(c) {
			t.Errorf("Has(%s) = false", c)
		}
	}
	if err := v.Err(); err == nil || !strings.Contains(err.Error(), "renewal_window: 延续注册仅可在") {
		t.Errorf("Err() = %v", err)
	}
	if txt := v.Text(); strings.Count(txt, "\n") != 3 || !strings.HasPrefix(txt, "不予受理 [enterprise_account] ") {
		t.Errorf("Text() = %q", txt)
	}
	if txt := Check(input(Renewal, "2025-05-10", testReg("2025-06-01")), DefaultPolicy()).Text(); txt != "可以申报延续注册（申报日期 2025-05-10）" {
		t.Errorf("Text() = %q", txt)
	}
	if v.EffectiveValidUntil != MustDate("2025-06-01") || v.ValidUntil != MustDate("2025-06-01") {
		t.Errorf("verdict dates %s %s", v.ValidUntil, v.EffectiveValidUntil)
	}
	if strings.Contains(v.Err().Error(), id) {
		t.Error("refusal text contains the full ID number")
	}
}

func TestCheckInputFor(t *testing.T) {
	c := Case{ID: "C1", Type: Change, Account: NaturalPerson, IDNumber: testID, QuotedApprovalDate: testQual.ApprovalDate, SubmittedOn: MustDate("2025-05-22")}
	v := Check(CheckInputFor(c, testReg("2025-06-01"), []Qualification{testQual}), DefaultPolicy())
	if !v.Allowed() {
		t.Fatalf("refused: %v", v.Err())
	}
}

func TestPolicyTerms(t *testing.T) {
	p := DefaultPolicy()
	for _, tc := range []struct{ until, from, to string }{
		{"2025-06-01", "2025-06-02", "2028-06-01"},
		{"2022-04-01", "2022-08-01", "2025-07-31"}, // runs from the extended valid-until
		{"2024-02-28", "2024-02-29", "2027-02-28"},
	} {
		f, u := p.RenewalTerm(*testReg(tc.until))
		if f != MustDate(tc.from) || u != MustDate(tc.to) {
			t.Errorf("RenewalTerm(%s) = %s..%s, want %s..%s", tc.until, f, u, tc.from, tc.to)
		}
	}
	if _, u := (Policy{ValidityYears: 5}).Term(MustDate("2025-01-01")); u != MustDate("2029-12-31") {
		t.Errorf("5-year term until %s", u)
	}
}

func TestRule9CheckDownload(t *testing.T) {
	approved := Case{Type: Initial, Status: CaseApproved, NoticeEnd: MustDate("2025-07-10")}
	if r := CheckDownload(approved, MustDate("2025-07-10")); len(r) != 1 || r[0].Code != RefuseNoticeNotEnded ||
		!strings.Contains(r[0].Message, "公示期至 2025-07-10 结束，2025-07-11 起可下载电子证书") {
		t.Errorf("on the notice end date: %+v", r)
	}
	if r := CheckDownload(approved, MustDate("2025-07-11")); r != nil {
		t.Errorf("day after notice end: %+v", r)
	}
	if r := CheckDownload(Case{Type: AddSpecialty, Status: CaseApproved}, MustDate("2025-07-11")); len(r) != 1 || r[0].Code != RefuseNoticeEndUnknown {
		t.Errorf("no notice end: %+v", r)
	}
	if r := CheckDownload(Case{Type: Renewal, Status: CaseApproved}, MustDate("2025-07-11")); r != nil {
		t.Errorf("renewal: %+v", r)
	}
	if r := CheckDownload(Case{Type: Renewal, Status: CaseInReview}, MustDate("2025-07-11")); len(r) != 1 || r[0].Code != RefuseCaseNotApproved {
		t.Errorf("in review: %+v", r)
	}
	if r := CheckDownload(Case{Type: Cancellation, Status: CaseApproved}, MustDate("2025-07-11")); len(r) != 1 || r[0].Code != RefuseNoCertificate {
		t.Errorf("cancellation: %+v", r)
	}
}

func BenchmarkCheck(b *testing.B) {
	p := DefaultPolicy()
	in := input(Renewal, "2022-07-10", testReg("2022-04-01"))
	for b.Loop() {
		if v := Check(in, p); !v.Allowed() {
			b.Fatal(v.Err())
		}
	}
}

func BenchmarkDueForCancellation(b *testing.B) {
	regs := make([]Registration, 100000)
	for i := range regs {
		regs[i] = *testReg("2022-03-01")
		regs[i].ValidUntil = regs[i].ValidUntil.AddDays(i % 1500)
	}
	exts := DefaultExtensions()
	today := MustDate("2024-01-01")
	for b.Loop() {
		DueForCancellation(regs, today, exts)
	}
}

// FuzzCheckWindows checks that the decision and the dates a refusal names
// agree: a renewal is refused for the window exactly when the submission date
// lies outside the window the message states, and likewise for changes.
func FuzzCheckWindows(f *testing.F) {
	f.Add(0, 0)
	f.Add(60, 31)
	f.Add(140, 5)
	f.Fuzz(func(t *testing.T, untilOffset, daysBefore int) {
		if untilOffset < -5000 || untilOffset > 5000 || daysBefore < -400 || daysBefore > 400 {
			return
		}
		reg := testReg(MustDate("2022-01-01").AddDays(untilOffset).String())
		eff := EffectiveValidUntil(*reg, DefaultExtensions())
		d := eff.AddDays(-daysBefore)
		p := DefaultPolicy()

		in := input(Renewal, d.String(), reg)
		v := Check(in, p)
		var win *Refusal
		for i := range v.Refusals {
			if v.Refusals[i].Code == RefuseRenewalWindow {
				win = &v.Refusals[i]
			}
		}
		inWindow := daysBefore >= 5 && daysBefore <= 30
		if (win == nil) != inWindow {
			t.Fatalf("E=%s d=%s: renewal window refusal %v, inWindow %v", eff, d, win != nil, inWindow)
		}
		if win != nil {
			from, to := win.Dates["window_from"], win.Dates["window_to"]
			if !d.Before(from) && !d.After(to) {
				t.Fatalf("refused inside the stated window %s..%s: %s", from, to, d)
			}
			if !strings.Contains(win.Message, from.String()) || !strings.Contains(win.Message, to.String()) {
				t.Fatalf("message does not name the window: %s", win.Message)
			}
		}
		if v.Has(RefuseRegistrationExpired) != (daysBefore < 0) {
			t.Fatalf("E=%s d=%s: expired refusal %v", eff, d, v.Has(RefuseRegistrationExpired))
		}

		in.Type = Change
		v = Check(in, p)
		if v.Has(RefuseChangeWindow) != (daysBefore < 10) {
			t.Fatalf("E=%s d=%s: change window refusal %v", eff, d, v.Has(RefuseChangeWindow))
		}
	})
}
