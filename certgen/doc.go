// Package certgen renders the 二级建造师 electronic registration certificate
// to unsigned PDF and OFD files from a flat record (Certificate) and a
// data-driven page template (templates/*.json).
//
// A Renderer lays a certificate out once — text shaped with the template's
// fonts and per-character fallback, the verification QR code, the seal
// picture — and writes it in either format or both: Render (both from one
// layout, the issuance path), RenderOutput (the OFD still unzipped, for a
// signer), PDF, OFD and OFDPackage. Each document embeds subsets of the
// fonts it uses, made once and shared by both formats. The PDF is written
// by github.com/signintech/gopdf, as the design requires (classic
// cross-reference table, catalog object 1, ready for an incremental
// signature), its ToUnicode maps repaired for characters beyond the BMP;
// the OFD by package certgen/ofd. Renderers are
// safe for concurrent use. docs/rendering.md describes the record, the
// template format and the measured cost.
package certgen
