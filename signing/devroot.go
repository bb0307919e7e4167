package signing

import "github.com/emmansun/gmsm/smx509"

// DevelopmentRootCommonName is the common name of the development CA's
// root, which OpenDevelopment creates for the embedded default. Nothing
// signed under it certifies anything.
const DevelopmentRootCommonName = "ecert 开发根证书（非生产）"

// IsDevelopmentRoot reports whether c is an ecert development root. The
// mark is the subject common name, which every development CA ever made
// carries: a root that merely copies the name is only ever downgraded by
// it (reported as "not for production"), never trusted more.
func IsDevelopmentRoot(c *smx509.Certificate) bool {
	return c != nil && c.Subject.CommonName == DevelopmentRootCommonName
}
