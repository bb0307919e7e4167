package signing

// Signed metadata keys. PDF signatures carry them in the signature
// dictionary's /ECertMeta dictionary, OFD packages as
// DocInfo/CustomDatas/CustomData@Name in OFD.xml; both are inside what the
// signature covers. Values are text; dates are YYYY-MM-DD (China time).
const (
	// MetaCertificateNo is the certificate number (证书编号) of the document.
	MetaCertificateNo = "ecert.certificateNo"
	// MetaKind is "original" or "usage-copy" for a certificate, and
	// KindVerificationReport for a verification report.
	MetaKind = "ecert.kind"
	// MetaUsageValidFrom and MetaUsageValidUntil bound a usage copy's
	// validity (inclusive days).
	MetaUsageValidFrom  = "ecert.usageValidFrom"
	MetaUsageValidUntil = "ecert.usageValidUntil"
	// MetaParentCertificateNo is the number of the licence a usage copy
	// was made from.
	MetaParentCertificateNo = "ecert.parentCertificateNo"
	// MetaCopyID identifies one usage copy.
	MetaCopyID = "ecert.copyId"
)

// KindVerificationReport is the MetaKind of a verification report signed
// by the verification service (see IssueServiceCertificate).
const KindVerificationReport = "verification-report"
