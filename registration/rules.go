package registration

import (
	"errors"
	"fmt"
	"strings"
)

// Default values of Policy.
const (
	DefaultValidityYears = 3
	// DefaultTechSupportPhone is the portal's technical support line for
	// acceptance and certificate problems (技术支持电话), as published.
	DefaultTechSupportPhone = "024-83988821"
)

// Limits of the rules, in calendar days before the effective valid-until E.
const (
	RenewalEarliestDays = 30 // renewal allowed from E-30 ...
	RenewalLatestDays   = 5  // ... to E-5
	ChangeLatestDays    = 10 // change refused when E-d < 10
	MaxAge              = 65 // no business after the 65th birthday
)

// Policy holds the configurable parts of the rules.
type Policy struct {
	// Extensions are the policy extensions of validity; DefaultExtensions
	// plus any loaded from a file.
	Extensions []Extension
	// ValidityYears is the term of a registration; DefaultValidityYears when 0.
	ValidityYears int
	// TechSupportPhone is quoted when an ID number is not in the
	// qualification library; DefaultTechSupportPhone when empty.
	TechSupportPhone string
}

// DefaultPolicy is the shipped policy: embedded extensions, a 3-year term.
func DefaultPolicy() Policy {
	return Policy{Extensions: DefaultExtensions(), ValidityYears: DefaultValidityYears, TechSupportPhone: DefaultTechSupportPhone}
}

func (p Policy) years() int {
	if p.ValidityYears <= 0 {
		return DefaultValidityYears
	}
	return p.ValidityYears
}

func (p Policy) phone() string {
	if p.TechSupportPhone == "" {
		return DefaultTechSupportPhone
	}
	return p.TechSupportPhone
}

// Term returns the validity of a term starting on from: from .. the day
// before the same date ValidityYears later (2025-06-02 → 2028-06-01).
func (p Policy) Term(from Date) (validFrom, validUntil Date) {
	return from, from.AddYears(p.years()).AddDays(-1)
}

// RenewalTerm returns the new validity after an approved renewal: renewal
// runs from the previous effective valid-until, not from approval day.
func (p Policy) RenewalTerm(reg Registration) (validFrom, validUntil Date) {
	return p.Term(EffectiveValidUntil(reg, p.Extensions).AddDays(1))
}

// CheckInput is a proposed case with everything the rules need to decide it.
type CheckInput struct {
	Type        BusinessType
	Account     AccountKind
	SubmittedOn Date   // submission date d (China Standard Time)
	IDNumber    string // the applicant's resident ID number
	// QuotedApprovalDate is the qualification approval date (批准日期) the
	// applicant typed in; required for initial, re-registration and add
	// specialty, checked against the library whenever given.
	QuotedApprovalDate Date
	// Specialty is the specialty applied for (code or Chinese name); optional,
	// used by initial, re-registration and add specialty.
	Specialty string
	// Registration is the applicant's entry in the registration library, nil when none.
	Registration *Registration
	// Qualifications are the qualification library entries for IDNumber (may be empty).
	Qualifications []Qualification
}

// CheckInputFor builds a CheckInput from a case and the library records.
func CheckInputFor(c Case, reg *Registration, quals []Qualification) CheckInput {
	return CheckInput{
		Type: c.Type, Account: c.Account, SubmittedOn: c.SubmittedOn, IDNumber: c.IDNumber,
		QuotedApprovalDate: c.QuotedApprovalDate, Registration: reg, Qualifications: quals,
	}
}

// Refusal codes. They are stable: portals and tests match on them.
const (
	RefuseInvalidBusinessType        = "invalid_business_type"
	RefuseMissingSubmissionDate      = "missing_submission_date"
	RefuseInvalidIDNumber            = "invalid_id_number"
	RefuseEnterpriseAccount          = "enterprise_account"
	RefuseUnknownAccount             = "account_kind_unknown"
	RefuseAgeOver65                  = "age_over_65"
	RefuseQualificationNotFound      = "qualification_not_found"
	RefuseApprovalDateMissing        = "approval_date_missing"
	RefuseApprovalDateIsIssueDate    = "approval_date_is_issue_date"
	RefuseApprovalDateMismatch       = "approval_date_mismatch"
	RefuseUnknownSpecialty           = "unknown_specialty"
	RefuseQualificationSpecialty     = "qualification_specialty_missing"
	RefuseRegistrationNotFound       = "registration_not_found"
	RefuseRegistrationPerson         = "registration_person_mismatch"
	RefuseRegistrationExpired        = "registration_expired"
	RefuseRegistrationCancelled      = "registration_cancelled"
	RefuseRenewalWindow              = "renewal_window"
	RefuseChangeWindow               = "change_window"
	RefuseAlreadyRegistered          = "already_registered"
	RefuseUseReregistration          = "use_reregistration"
	RefuseNoPreviousRegistration     = "no_previous_registration"
	RefuseRegistrationStillActive    = "registration_still_active"
	RefuseSpecialtyAlreadyRegistered = "specialty_already_registered"
)

// Refusal is one reason a case is refused: a stable code, a Chinese message a
// portal can show as it is, and the dates the message names (keys such as
// "valid_until", "window_from", "window_to", "birthday_65").
type Refusal struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Dates   map[string]Date `json:"dates,omitempty"`
}

// Verdict is the outcome of Check: all refusals, and the dates it used.
type Verdict struct {
	Type        BusinessType `json:"business_type"`
	SubmittedOn Date         `json:"submitted_on"`
	// ValidUntil and EffectiveValidUntil are the registration's valid-until
	// before and after policy extensions (zero without a registration).
	ValidUntil          Date      `json:"valid_until,omitzero"`
	EffectiveValidUntil Date      `json:"effective_valid_until,omitzero"`
	Refusals            []Refusal `json:"refusals"`
}

// Allowed reports whether no rule refuses the case.
func (v Verdict) Allowed() bool { return len(v.Refusals) == 0 }

// Has reports whether the verdict contains a refusal with the code.
func (v Verdict) Has(code string) bool {
	for _, r := range v.Refusals {
		if r.Code == code {
			return true
		}
	}
	return false
}

// Codes returns the refusal codes in order.
func (v Verdict) Codes() []string {
	c := make([]string, len(v.Refusals))
	for i, r := range v.Refusals {
		c[i] = r.Code
	}
	return c
}

// ErrRefused is wrapped by Verdict.Err.
var ErrRefused = errors.New("case refused")

// Err returns nil when the case is allowed, otherwise an error wrapping
// ErrRefused whose text lists every refusal message.
func (v Verdict) Err() error {
	if v.Allowed() {
		return nil
	}
	msgs := make([]string, len(v.Refusals))
	for i, r := range v.Refusals {
		msgs[i] = r.Code + ": " + r.Message
	}
	return fmt.Errorf("%w: %s", ErrRefused, strings.Join(msgs, "; "))
}

// Text renders the verdict for a terminal or a log line: "可以申报" when
// allowed, otherwise one "不予受理 [code] message" line per refusal.
func (v Verdict) Text() string {
	if v.Allowed() {
		return fmt.Sprintf("可以申报%s（申报日期 %s）", v.Type.Chinese(), v.SubmittedOn)
	}
	var b strings.Builder
	for i, r := range v.Refusals {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "不予受理 [%s] %s", r.Code, r.Message)
	}
	return b.String()
}

// needsActiveRegistration lists the business types that act on an existing, active registration.
func needsActiveRegistration(t BusinessType) bool {
	switch t {
	case AddSpecialty, Renewal, Change, Cancellation, LostReissue:
		return true
	}
	return false
}

func needsApprovalDate(t BusinessType) bool {
	return t == Initial || t == Reregistration || t == AddSpecialty
}

// Check applies every rule of the registration domain to a proposed case and
// returns all reasons it is refused (none: Verdict.Allowed). It is pure: the
// submission date in the input is "today".
func Check(in CheckInput, p Policy) Verdict {
	v := Verdict{Type: in.Type, SubmittedOn: in.SubmittedOn}
	refuse := func(code, msg string, dates map[string]Date) {
		v.Refusals = append(v.Refusals, Refusal{Code: code, Message: msg, Dates: dates})
	}
	d := in.SubmittedOn
	typeName := in.Type.Chinese()

	if !in.Type.Valid() {
		refuse(RefuseInvalidBusinessType, fmt.Sprintf("注册业务类型“%s”不存在", in.Type), nil)
		typeName = "注册业务"
	}
	if d.IsZero() {
		refuse(RefuseMissingSubmissionDate, "缺少申报日期", nil)
	}

	// Rule 6: natural persons only.
	switch in.Account {
	case NaturalPerson:
	case Enterprise:
		refuse(RefuseEnterpriseAccount, "不可以使用企业账号申报，需要申请人注册自然人用户，填写注册相关信息并完成实名认证后申报", nil)
	default:
		refuse(RefuseUnknownAccount, "申报账号类型未知，需要使用已实名认证的自然人账号申报", nil)
	}

	// Rule 3: age from the ID number.
	id, idErr := ParseIDNumber(in.IDNumber)
	if idErr != nil {
		refuse(RefuseInvalidIDNumber, "身份证号码无效（应为18位居民身份证号码，校验位正确）", nil)
	} else if !d.IsZero() {
		b65 := id.Birthday(MaxAge)
		if d.After(b65) {
			refuse(RefuseAgeOver65, fmt.Sprintf("年龄超过65周岁的人员不可以再办理任何注册业务（65周岁生日为 %s，申报日期为 %s）", b65, d),
				map[string]Date{"birthday_65": b65, "submitted_on": d})
		}
	}

	// Rule 5: consistency with the qualification library.
	checkQualifications(in, idErr == nil, id, p, refuse)

	// Rules 1, 2, 4 and the registration-state rules.
	reg := in.Registration
	if reg != nil && idErr == nil && reg.IDNumber != "" && !strings.EqualFold(strings.TrimSpace(reg.IDNumber), id.String()) {
		refuse(RefuseRegistrationPerson, fmt.Sprintf("注册库中的注册信息（注册编号 %s）不属于该申请人", reg.Number), nil)
		reg = nil
	}
	if reg != nil {
		v.ValidUntil = BaseValidUntil(*reg)
		v.EffectiveValidUntil = EffectiveValidUntil(*reg, p.Extensions)
	}
	if d.IsZero() || !in.Type.Valid() {
		return v
	}
	checkRegistration(in.Type, typeName, d, reg, v.ValidUntil, v.EffectiveValidUntil, in.Specialty, refuse)
	return v
}

type refuseFunc func(code, msg string, dates map[string]Date)

func checkQualifications(in CheckInput, idOK bool, id IDNumber, p Policy, refuse refuseFunc) {
	var quals []Qualification
	for _, q := range in.Qualifications {
		if q.IDNumber == "" || (idOK && strings.EqualFold(strings.TrimSpace(q.IDNumber), id.String())) {
			quals = append(quals, q)
		}
	}
	if idOK && len(quals) == 0 {
		refuse(RefuseQualificationNotFound, fmt.Sprintf("身份证号与资格库不符（资格库中没有该身份证号的资格证书），请联系技术支持，技术支持电话 %s", p.phone()), nil)
	}
	if in.Specialty != "" && needsApprovalDate(in.Type) {
		s, ok := LookupSpecialty(in.Specialty)
		if !ok {
			refuse(RefuseUnknownSpecialty, fmt.Sprintf("注册专业“%s”不存在", in.Specialty), nil)
		} else {
			var same []Qualification
			for _, q := range quals {
				if qs, ok := LookupSpecialty(q.Specialty); ok && qs == s {
					same = append(same, q)
				}
			}
			if len(quals) > 0 && len(same) == 0 {
				refuse(RefuseQualificationSpecialty, fmt.Sprintf("资格库中没有该人员的%s专业资格证书", s.Name), nil)
			} else if len(same) > 0 {
				quals = same
			}
		}
	}
	q := in.QuotedApprovalDate
	if q.IsZero() {
		if needsApprovalDate(in.Type) {
			refuse(RefuseApprovalDateMissing, "请填写资格证书批准日期（不要填写资格证书签发日期）", nil)
		}
		return
	}
	if len(quals) == 0 {
		return
	}
	var approvals []string
	for _, x := range quals {
		if x.ApprovalDate == q {
			return
		}
		approvals = append(approvals, x.ApprovalDate.String())
	}
	for _, x := range quals {
		if x.IssueDate == q {
			refuse(RefuseApprovalDateIsIssueDate,
				fmt.Sprintf("资格证书批准日期填写有误：填写的是资格证书签发日期（%s），应填写资格证书批准日期（%s）", q, x.ApprovalDate),
				map[string]Date{"quoted": q, "issue_date": x.IssueDate, "approval_date": x.ApprovalDate})
			return
		}
	}
	dates := map[string]Date{"quoted": q}
	if len(quals) == 1 {
		dates["approval_date"] = quals[0].ApprovalDate
	}
	refuse(RefuseApprovalDateMismatch,
		fmt.Sprintf("资格证书批准日期填写有误：填写的是 %s，资格库中的批准日期为 %s", q, strings.Join(approvals, "、")), dates)
}

// validUntilText names the effective valid-until, and the original one when a
// policy extension moved it.
func validUntilText(base, eff Date) string {
	if base != eff {
		return fmt.Sprintf("注册有效期至 %s（原有效期至 %s，已按政策延期）", eff, base)
	}
	return fmt.Sprintf("注册有效期至 %s", eff)
}

func checkRegistration(t BusinessType, typeName string, d Date, reg *Registration, base, eff Date, specialty string, refuse refuseFunc) {
	if reg == nil {
		switch {
		case needsActiveRegistration(t):
			refuse(RefuseRegistrationNotFound, fmt.Sprintf("注册库中没有该人员的注册信息，不能申报%s", typeName), nil)
		case t == Reregistration:
			refuse(RefuseNoPreviousRegistration, "注册库中没有该人员的注册记录，不能申报重新注册，请申报初始注册", nil)
		}
		return
	}
	cancelled := reg.Status == RegistrationCancelled
	expired := !cancelled && !eff.IsZero() && d.After(eff)
	active := !cancelled && !expired

	// Rule 2: after expiry or cancellation only re-registration is possible.
	if needsActiveRegistration(t) {
		switch {
		case cancelled:
			on := ""
			dates := map[string]Date(nil)
			if !reg.CancelledOn.IsZero() {
				on = "已于 " + reg.CancelledOn.String() + " "
				dates = map[string]Date{"cancelled_on": reg.CancelledOn}
			}
			reason := ""
			if reg.CancelReason != "" {
				reason = "（" + reg.CancelReason + "）"
			}
			refuse(RefuseRegistrationCancelled, fmt.Sprintf("注册（注册编号 %s）%s注销%s，不能申报%s，只能申报重新注册", reg.Number, on, reason, typeName), dates)
		case expired:
			refuse(RefuseRegistrationExpired,
				fmt.Sprintf("%s，已届满；未按规定办理延续注册的，自 %s 起自动注销，不能申报%s，只能申报重新注册", validUntilText(base, eff), eff.AddDays(1), typeName),
				map[string]Date{"valid_until": eff, "cancelled_on": eff.AddDays(1)})
		}
	}

	switch t {
	case Renewal:
		// Rule 1: 5 <= E - d <= 30, using the effective valid-until.
		if cancelled || eff.IsZero() {
			break
		}
		if n := d.DaysUntil(eff); n < RenewalLatestDays || n > RenewalEarliestDays {
			from, to := eff.AddDays(-RenewalEarliestDays), eff.AddDays(-RenewalLatestDays)
			refuse(RefuseRenewalWindow,
				fmt.Sprintf("延续注册仅可在注册有效期到期前5至30日内申报，即 %s 至 %s 期间（%s，申报日期 %s）", from, to, validUntilText(base, eff), d),
				map[string]Date{"window_from": from, "window_to": to, "valid_until": eff, "submitted_on": d})
		}
	case Change:
		// Rule 4: refused when E - d < 10.
		if cancelled || eff.IsZero() {
			break
		}
		if n := d.DaysUntil(eff); n < ChangeLatestDays {
			last := eff.AddDays(-ChangeLatestDays)
			refuse(RefuseChangeWindow,
				fmt.Sprintf("距注册有效期到期不足10天的，不能申报变更注册；变更注册最迟应在 %s 申报（%s，申报日期 %s）", last, validUntilText(base, eff), d),
				map[string]Date{"last_day": last, "valid_until": eff, "submitted_on": d})
		}
	case Initial:
		if active {
			refuse(RefuseAlreadyRegistered,
				fmt.Sprintf("已有有效注册（注册编号 %s，%s），不能申报初始注册；增加注册专业请申报增项注册", reg.Number, validUntilText(base, eff)),
				map[string]Date{"valid_until": eff})
		} else {
			refuse(RefuseUseReregistration, fmt.Sprintf("已有注册记录（注册编号 %s），注册已注销或已届满，不能申报初始注册，请申报重新注册", reg.Number), nil)
		}
	case Reregistration:
		if active {
			refuse(RefuseRegistrationStillActive,
				fmt.Sprintf("注册仍在有效期内（注册编号 %s，%s），不能申报重新注册；请申报变更或延续注册", reg.Number, validUntilText(base, eff)),
				map[string]Date{"valid_until": eff})
		}
	case AddSpecialty:
		if s, ok := LookupSpecialty(specialty); ok && active {
			for _, rs := range reg.Specialties {
				if rs.Code == s.Code || rs.Name == s.Name {
					refuse(RefuseSpecialtyAlreadyRegistered,
						fmt.Sprintf("已注册%s专业（注册编号 %s），不能重复申报增项注册", s.Name, reg.Number), nil)
					break
				}
			}
		}
	}
}

// Download refusal codes (rule 9).
const (
	RefuseCaseNotApproved  = "case_not_approved"
	RefuseNoCertificate    = "no_certificate"
	RefuseNoticeNotEnded   = "notice_not_ended"
	RefuseNoticeEndUnknown = "notice_end_missing"
)

// CheckDownload decides whether the certificate of an approved case may be
// downloaded on today (rule 9). For initial, re-registration and add
// specialty the certificate is available only after the public notice (公示)
// ends: from the day after NoticeEnd. It returns nil when downloadable.
func CheckDownload(c Case, today Date) []Refusal {
	var out []Refusal
	if c.Status != CaseApproved {
		out = append(out, Refusal{Code: RefuseCaseNotApproved, Message: fmt.Sprintf("办件状态为“%s”，批准后才能下载电子证书", c.Status.Chinese())})
	}
	if !c.Type.IssuesCertificate() {
		out = append(out, Refusal{Code: RefuseNoCertificate, Message: fmt.Sprintf("%s不生成电子证书", c.Type.Chinese())})
		return out
	}
	if c.Type.NeedsPublicNotice() && c.Status == CaseApproved {
		switch {
		case c.NoticeEnd.IsZero():
			out = append(out, Refusal{Code: RefuseNoticeEndUnknown, Message: "公示结束日期未知，公示结束后才能下载电子证书"})
		case !today.After(c.NoticeEnd):
			out = append(out, Refusal{Code: RefuseNoticeNotEnded,
				Message: fmt.Sprintf("公示期至 %s 结束，%s 起可下载电子证书", c.NoticeEnd, c.NoticeEnd.AddDays(1)),
				Dates:   map[string]Date{"notice_end": c.NoticeEnd, "available_from": c.NoticeEnd.AddDays(1)}})
		}
	}
	return out
}
