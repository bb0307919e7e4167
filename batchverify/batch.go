package batchverify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"github.com/ecert/ecert/signing"
	"github.com/ecert/ecert/signing/verify"
)

// Item is the outcome for one file of a batch.
type Item struct {
	// Name is the file's name as given (for display only).
	Name string `json:"file"`
	// SM3 is the hex SM3 digest of the file's bytes.
	SM3  string `json:"sm3"`
	Size int    `json:"size"`
	// Verdict is the report's verdict, or VerdictUnreadable with Error.
	Verdict string `json:"verdict"`
	// Document is verify.DocumentVerificationReport for a report verified
	// in the batch, empty for a certificate.
	Document string `json:"document,omitempty"`
	// Failed lists the checks that failed or could not run.
	Failed []FailedCheck `json:"failed,omitempty"`
	Error  string        `json:"error,omitempty"`
	// Report is the full report (JSON summary only; never in the PDF).
	Report *verify.Report `json:"report,omitempty"`
}

// FailedCheck is one check that did not pass.
type FailedCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// VerdictUnreadable is the verdict of a file that could not be read.
const VerdictUnreadable = "unreadable"

// Trusted is one root of the trust list a batch was verified against.
type Trusted struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// StatusNotConsulted is the StatusList of a batch verified without any
// status source.
const StatusNotConsulted = "not consulted"

// Batch is a verified batch: what the report says.
type Batch struct {
	// ID identifies the report (random, 16 hex digits).
	ID string `json:"id"`
	// VerifiedAt is the time of verification.
	VerifiedAt time.Time `json:"verified_at"`
	// Trust is the trust list used.
	Trust []Trusted `json:"trust"`
	// StatusList names the status source consulted: a status-list version,
	// a description of the registry asked, or StatusNotConsulted.
	StatusList string `json:"status_list"`
	Items      []Item `json:"items"`
	// Counts by verdict.
	Valid       int `json:"valid"`
	Development int `json:"valid_development_root"`
	NotCurrent  int `json:"not_current"`
	Invalid     int `json:"invalid"`
	Unreadable  int `json:"unreadable"`
}

// Options configure Verify.
type Options struct {
	// Verify is passed to verify.File for every file; its Roots are the
	// trust list printed in the report and its Now the time of verification.
	Verify verify.Options
	// StatusList names the status source for the report; empty means
	// "registry consulted" when Verify.Status is set, else
	// StatusNotConsulted.
	StatusList string
}

// New returns an empty batch verified at opts.Verify.Now (time.Now when
// nil), against opts.Verify.Roots, and opts with its clock fixed at that
// instant: verify every file with the options returned, so that each is
// validated at the time the report states.
func New(opts Options) (*Batch, Options) {
	now := time.Now()
	if opts.Verify.Now != nil {
		now = opts.Verify.Now()
	}
	opts.Verify.Now = func() time.Time { return now }
	b := &Batch{ID: newID(), VerifiedAt: now, Trust: trustList(opts.Verify.Roots), StatusList: opts.StatusList}
	if b.StatusList == "" {
		b.StatusList = StatusNotConsulted
		if opts.Verify.Status != nil {
			b.StatusList = StatusRegistry
		}
	}
	return b, opts
}

// StatusRegistry is the StatusList of a batch whose status checks asked
// the issuer's registry directly (no signed status list).
const StatusRegistry = "registry consulted (no signed status list)"

// Verify checks every file and returns the batch. It stops early only when
// ctx ends.
func Verify(ctx context.Context, files []File, opts Options) (*Batch, error) {
	b, opts := New(opts)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b.Add(f.Name, f.Data, verify.File(f.Data, opts.Verify))
	}
	return b, nil
}

// Add records one file and its report (nil when it could not be read).
func (b *Batch) Add(name string, data []byte, r *verify.Report) {
	it := Item{Name: name, Size: len(data), SM3: hex.EncodeToString(signing.SM3(data)), Report: r}
	if r == nil {
		it.Verdict = VerdictUnreadable
		b.Items = append(b.Items, it)
		b.Unreadable++
		return
	}
	it.Verdict, it.Document = r.Verdict, r.Document
	for _, c := range r.Checks {
		if c.Status != verify.StatusPass {
			it.Failed = append(it.Failed, FailedCheck{Name: c.Name, Status: c.Status})
		}
	}
	switch r.Verdict {
	case verify.VerdictValid:
		b.Valid++
	case verify.VerdictValidDevelopment:
		b.Development++
	case verify.VerdictNotCurrent:
		b.NotCurrent++
	default:
		b.Invalid++
	}
	b.Items = append(b.Items, it)
}

// AddUnreadable records a file that could not be read, and why.
func (b *Batch) AddUnreadable(name, why string) {
	b.Items = append(b.Items, Item{Name: name, Verdict: VerdictUnreadable, Error: why})
	b.Unreadable++
}

func trustList(roots []*smx509.Certificate) []Trusted {
	out := make([]Trusted, 0, len(roots))
	for _, c := range roots {
		sum := sha256.Sum256(c.Raw)
		out = append(out, Trusted{Name: c.Subject.CommonName, SHA256: hex.EncodeToString(sum[:])})
	}
	return out
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// checkNames are the Chinese names of the checks, printed with their ids.
var checkNames = map[string]string{
	verify.CheckFormat:       "格式",
	verify.CheckSignature:    "签名值",
	verify.CheckChain:        "证书链",
	verify.CheckSigningTime:  "签名时间",
	verify.CheckIntegrity:    "完整性",
	verify.CheckSeal:         "电子印章",
	verify.CheckUsage:        "使用有效期",
	verify.CheckPrintedUsage: "打印的使用有效期",
	verify.CheckStatus:       "证照状态",
	verify.CheckDocumentKind: "文件类型",
}

// CheckName is a check's Chinese name with its id, e.g. "完整性 integrity".
func CheckName(id string) string {
	if zh, ok := checkNames[id]; ok {
		return zh + " " + id
	}
	return id
}

// verdictNames are the verdicts as the report prints them.
var verdictNames = map[string]string{
	verify.VerdictValid:            "有效 valid",
	verify.VerdictValidDevelopment: "有效（开发根证书，非生产）valid, development root",
	verify.VerdictNotCurrent:       "真实但已不在效力中 not current",
	verify.VerdictInvalid:          "无效 invalid",
	VerdictUnreadable:              "无法读取 unreadable",
}

// VerdictName is a verdict as the report prints it.
func VerdictName(v string) string {
	if s, ok := verdictNames[v]; ok {
		return s
	}
	return v
}

// failedText lists an item's failed checks: "完整性 integrity 未通过, 证书链 chain 未检查".
func (it Item) failedText() string {
	var s []string
	for _, c := range it.Failed {
		word := "未通过 failed"
		if c.Status == verify.StatusNotChecked {
			word = "未检查 not checked"
		}
		s = append(s, fmt.Sprintf("%s %s", CheckName(c.Name), word))
	}
	if it.Error != "" {
		s = append(s, it.Error)
	}
	return strings.Join(s, "；")
}
