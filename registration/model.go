package registration

import "fmt"

// Specialty is a registered specialty (注册专业) with its national code.
type Specialty struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Specialties lists the six specialties of 二级建造师 with their national codes.
var Specialties = []Specialty{
	{"10401001", "建筑工程"},
	{"10401002", "公路工程"},
	{"10401005", "水利水电工程"},
	{"10401007", "矿业工程"},
	{"10401010", "市政公用工程"},
	{"10401012", "机电工程"},
}

// LookupSpecialty finds a specialty by code or by Chinese name.
func LookupSpecialty(codeOrName string) (Specialty, bool) {
	for _, s := range Specialties {
		if s.Code == codeOrName || s.Name == codeOrName {
			return s, true
		}
	}
	return Specialty{}, false
}

// Longest texts of a record, in characters (runes). Intake accepts no more and
// the certificate template prints this much (wrapping where needed): one
// limit for both, so that nothing accepted fails issuance for its length.
const (
	MaxPersonNameRunes   = 32  // holder name (姓名), e.g. a transliterated minority name
	MaxEmployerNameRunes = 100 // employer (聘用企业): a group company with its branch in brackets
)

// Person is a natural person identified by a resident ID number.
type Person struct {
	Name     string   `json:"name"`
	ID       IDNumber `json:"-"`
	IDNumber string   `json:"id_number"`
	Phone    string   `json:"phone,omitempty"`
}

// Employer is the hiring enterprise (聘用企业).
type Employer struct {
	Name       string `json:"name"`
	CreditCode string `json:"credit_code"` // 统一社会信用代码, 18 characters
}

// Qualification is an entry of the qualification library (资格库).
type Qualification struct {
	CertificateNo string `json:"certificate_no"`
	IDNumber      string `json:"id_number"`
	Specialty     string `json:"specialty"`
	ApprovalDate  Date   `json:"approval_date"` // 批准日期: what applications must quote
	IssueDate     Date   `json:"issue_date"`    // 签发日期
}

// RegisteredSpecialty is one specialty of a registration with its own valid-until.
type RegisteredSpecialty struct {
	Specialty
	ValidUntil Date `json:"valid_until"`
}

// RegistrationStatus is the state of a registration in the registration library.
type RegistrationStatus string

const (
	RegistrationActive    RegistrationStatus = "active"
	RegistrationCancelled RegistrationStatus = "cancelled"
)

// Registration is an entry of the registration library (注册库).
type Registration struct {
	Number       string                `json:"number"` // 注册编号
	IDNumber     string                `json:"id_number"`
	Employer     Employer              `json:"employer"`
	Specialties  []RegisteredSpecialty `json:"specialties"`
	ValidFrom    Date                  `json:"valid_from"`
	ValidUntil   Date                  `json:"valid_until"` // last valid day, before policy extensions
	Status       RegistrationStatus    `json:"status"`
	CancelReason string                `json:"cancel_reason,omitempty"`
	CancelledOn  Date                  `json:"cancelled_on,omitzero"`
}

// BusinessType is a registration business (注册业务).
type BusinessType string

const (
	Initial        BusinessType = "initial"        // 初始注册
	Reregistration BusinessType = "reregistration" // 重新注册
	AddSpecialty   BusinessType = "add_specialty"  // 增项注册
	Renewal        BusinessType = "renewal"        // 延续注册
	Change         BusinessType = "change"         // 变更注册
	Cancellation   BusinessType = "cancellation"   // 注销注册
	LostReissue    BusinessType = "lost_reissue"   // 遗失补办
)

var businessTypes = []struct {
	t         BusinessType
	chinese   string
	reviewWD  int  // review limit in working days
	notice    bool // certificate only after the public notice ends
	issuesDoc bool // approval issues a certificate
}{
	{Initial, "初始注册", 15, true, true},
	{Reregistration, "重新注册", 15, true, true},
	{AddSpecialty, "增项注册", 15, true, true},
	{Renewal, "延续注册", 5, false, true},
	{Change, "变更注册", 5, false, true},
	{Cancellation, "注销注册", 5, false, false},
	{LostReissue, "遗失补办", 5, false, true},
}

// ParseBusinessType accepts the English code or the Chinese name (with or without 注册).
func ParseBusinessType(s string) (BusinessType, error) {
	for _, b := range businessTypes {
		if s == string(b.t) || s == b.chinese || s+"注册" == b.chinese {
			return b.t, nil
		}
	}
	return "", fmt.Errorf("unknown business type %q", s)
}

func (t BusinessType) info() (chinese string, reviewWD int, notice, issues bool, ok bool) {
	for _, b := range businessTypes {
		if b.t == t {
			return b.chinese, b.reviewWD, b.notice, b.issuesDoc, true
		}
	}
	return "", 0, false, false, false
}

// Valid reports whether t is a known business type.
func (t BusinessType) Valid() bool { _, _, _, _, ok := t.info(); return ok }

// Chinese returns the portal label, e.g. 延续注册.
func (t BusinessType) Chinese() string { c, _, _, _, _ := t.info(); return c }

// ReviewWorkingDays is the review time limit in working days.
func (t BusinessType) ReviewWorkingDays() int { _, n, _, _, _ := t.info(); return n }

// NeedsPublicNotice reports whether the certificate waits for the public notice (公示) to end.
func (t BusinessType) NeedsPublicNotice() bool { _, _, n, _, _ := t.info(); return n }

// IssuesCertificate reports whether an approval of this type yields a new certificate version.
func (t BusinessType) IssuesCertificate() bool { _, _, _, i, _ := t.info(); return i }

// CaseStatus is the portal status of a case (办件状态).
type CaseStatus string

const (
	CaseDraft     CaseStatus = "draft"     // 未提交
	CaseSubmitted CaseStatus = "submitted" // 待审核
	CaseInReview  CaseStatus = "in_review" // 正在办理
	CaseApproved  CaseStatus = "approved"  // 批准
	CaseRejected  CaseStatus = "rejected"  // 不予批准
)

var caseStatusChinese = map[CaseStatus]string{
	CaseDraft: "未提交", CaseSubmitted: "待审核", CaseInReview: "正在办理", CaseApproved: "批准", CaseRejected: "不予批准",
}

// Chinese returns the portal label of s.
func (s CaseStatus) Chinese() string { return caseStatusChinese[s] }

var caseTransitions = map[CaseStatus][]CaseStatus{
	CaseDraft:     {CaseSubmitted},
	CaseSubmitted: {CaseInReview, CaseDraft}, // accepted, or returned for correction
	CaseInReview:  {CaseApproved, CaseRejected},
}

// CanTransition reports whether a case may move from s to next.
func (s CaseStatus) CanTransition(next CaseStatus) bool {
	for _, n := range caseTransitions[s] {
		if n == next {
			return true
		}
	}
	return false
}

// AccountKind is the kind of portal account that submits a case.
type AccountKind string

const (
	NaturalPerson AccountKind = "natural_person"
	Enterprise    AccountKind = "enterprise"
)

// Case is one application (办件) of one business type by one applicant.
type Case struct {
	ID                 string       `json:"case_id"`
	Type               BusinessType `json:"business_type"`
	Status             CaseStatus   `json:"status"`
	Account            AccountKind  `json:"account_kind"`
	IDNumber           string       `json:"id_number"`
	RegistrationNo     string       `json:"registration_number,omitempty"`
	QuotedApprovalDate Date         `json:"quoted_approval_date,omitzero"`
	SubmittedOn        Date         `json:"submitted_on,omitzero"`
	AcceptedOn         Date         `json:"accepted_on,omitzero"`
	DecidedOn          Date         `json:"decided_on,omitzero"`
	NoticeEnd          Date         `json:"notice_end,omitzero"`
	RejectReason       string       `json:"reject_reason,omitempty"`
}

// Transition moves c to next, or explains why it may not.
func (c *Case) Transition(next CaseStatus, on Date) error {
	if !c.Status.CanTransition(next) {
		return fmt.Errorf("case %s: cannot go from %s (%s) to %s (%s)", c.ID, c.Status, c.Status.Chinese(), next, next.Chinese())
	}
	switch next {
	case CaseSubmitted:
		c.SubmittedOn = on
	case CaseInReview:
		c.AcceptedOn = on
	case CaseApproved, CaseRejected:
		c.DecidedOn = on
	}
	c.Status = next
	return nil
}
