package registration

import "fmt"

// CertStatus is a national e-licence certificate status code.
type CertStatus string

// Certificate status codes.
const (
	CertValid     CertStatus = "01" // 有效
	CertSuspended CertStatus = "02" // 暂扣
	CertWithdrawn CertStatus = "03" // 撤销
	CertCancelled CertStatus = "04" // 注销
	CertLapsed    CertStatus = "05" // 失效
	CertRevoked   CertStatus = "07" // 吊销
	CertOther     CertStatus = "99" // 其他
)

var certStatusLabels = []struct {
	s     CertStatus
	label string
}{
	{CertValid, "有效"}, {CertSuspended, "暂扣"}, {CertWithdrawn, "撤销"}, {CertCancelled, "注销"},
	{CertLapsed, "失效"}, {CertRevoked, "吊销"}, {CertOther, "其他"},
}

// CertStatuses lists every status code in order.
func CertStatuses() []CertStatus {
	out := make([]CertStatus, len(certStatusLabels))
	for i, x := range certStatusLabels {
		out[i] = x.s
	}
	return out
}

// Chinese returns the label (有效, 暂扣, ...), or "" for an unknown code.
func (s CertStatus) Chinese() string {
	for _, x := range certStatusLabels {
		if x.s == s {
			return x.label
		}
	}
	return ""
}

// Valid reports whether s is a known status code.
func (s CertStatus) Valid() bool { return s.Chinese() != "" }

// Usable reports whether a certificate in this status may be presented
// (only 01 有效).
func (s CertStatus) Usable() bool { return s == CertValid }

// String returns "01 有效".
func (s CertStatus) String() string { return string(s) + " " + s.Chinese() }

// ParseCertStatus accepts the two-digit code or the Chinese label.
func ParseCertStatus(v string) (CertStatus, error) {
	for _, x := range certStatusLabels {
		if v == string(x.s) || v == x.label {
			return x.s, nil
		}
	}
	return "", fmt.Errorf("unknown certificate status %q: want one of 01 有效, 02 暂扣, 03 撤销, 04 注销, 05 失效, 07 吊销, 99 其他", v)
}
