// Package signing holds the trust core of ecert: SM2 keys and X.509
// certificates of the issuing authority (root CA → issuing-authority
// certificate), the Signer interface that PDF and OFD signatures are made
// with, and the SM2/SM3 primitives shared by the signature formats.
//
// Sub-packages build on it: cms (CMS SignedData with SM2), pdfsig (PDF
// signatures by incremental update), ofdsig (GB/T 38540 electronic seal
// signatures in OFD packages) and verify (the verifier of both formats).
//
// Private keys never leave a Signer in clear form: at rest they are stored as
// encrypted PKCS#8, and neither keys nor passphrases are ever logged.
package signing
