// Package registration is the domain of second-class constructor (二级建造师)
// registrations: persons and their resident ID numbers (GB 11643),
// qualifications, registrations and cases, and the rules that decide them.
//
// It is pure Go without I/O apart from embedded data:
//
//   - Check applies every eligibility rule to a proposed case and returns all
//     refusals, each with a stable code, a Chinese message a portal can show as
//     it is, and the dates it names.
//   - Extensions are policy extensions of validity as data (the 2022 extension
//     is embedded); EffectiveValidUntil is what every expiry rule uses.
//   - Calendar is the official working-day calendar (public holidays and
//     make-up working days) from github.com/6tail/lunar-go plus overrides;
//     DueDate gives the review deadline of a case.
//   - DueForCancellation lists registrations to cancel automatically.
//   - LicenceID (GB/T 36904), ValidateCreditCode (GB 32100), CertStatus and
//     RegNumberValidator follow the national e-licence conventions.
package registration
