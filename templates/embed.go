// Package templates embeds the certificate templates (JSON), the fonts they
// use and the fonts' licence files, so rendering never depends on fonts
// installed on the machine. See docs/rendering.md for the template format.
package templates

import "embed"

// FS holds *.json templates and fonts/ (TrueType files and their licences).
//
//go:embed *.json fonts/*.ttf fonts/LICENSE-*.txt fonts/extb-extra.txt
var FS embed.FS

// Default is the name of the template for 二级建造师注册证书.
const Default = "ejz-registration.json"
