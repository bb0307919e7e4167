// Package batchverify verifies many documents at once and writes the
// outcome as a verification report: a PDF listing each file with its SM3
// digest and verdict, the time of verification, the trust list and the
// status source, signed with the verification service's own SM2 key (see
// signing.Store.ReportSigner) so that a relying party can archive proof of
// what it checked.
//
// It reads batches from outside (zip archives) with a bound on every count
// and size before anything is inflated, and never signs with the issuing
// authority's key: a report is not a certificate.
package batchverify
