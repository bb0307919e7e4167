// Package examples ships sample input files with the binary, so that the
// quick start needs nothing but the repository.
package examples

import _ "embed"

// Approvals is examples/approvals.ndjson: 200 synthetic approved
// registrations in the intake format, with two deliberately bad lines
// (line 101: an impossible date; line 152: a wrong ID check digit) to show
// how import reports them.
//
//go:embed approvals.ndjson
var Approvals []byte
