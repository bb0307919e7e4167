package verify

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/ecert/ecert/signing/ofdsig"
)

func ofdPkg(t *testing.T, files map[string]string) *ofdsig.Package {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for n, s := range files {
		w, _ := zw.Create(n)
		w.Write([]byte(s))
	}
	zw.Close()
	p, err := ofdsig.ReadPackage(b.Bytes(), ofdsig.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pages(locs ...string) *ofdsig.DocumentXML {
	d := &ofdsig.DocumentXML{}
	for i, l := range locs {
		d.Pages = append(d.Pages, struct {
			ID      string `xml:"ID,attr"`
			BaseLoc string `xml:"BaseLoc,attr"`
		}{fmt.Sprint(i + 1), l})
	}
	return d
}

func TestOFDPageText(t *testing.T) {
	page := `<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="1">
<ofd:PageBlock ID="2"><ofd:TextObject ID="3" Boundary="0 0 10 10" Font="1" Size="3"><ofd:TextCode X="0" Y="3">&#x4F7F;用有效期：</ofd:TextCode></ofd:TextObject></ofd:PageBlock>
<ofd:TextObject ID="4" Boundary="0 0 10 10" Font="2" Size="3"><ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="3">2026</ofd:TextCode><ofd:TextCode X="5" Y="3"><![CDATA[年03月04日至2026年08月30日]]></ofd:TextCode></ofd:TextObject>
<ofd:PathObject ID="5"><ofd:AbbreviatedData>M 0 0 L 1 1</ofd:AbbreviatedData></ofd:PathObject>
</ofd:Layer></ofd:Content></ofd:Page>`
	pkg := ofdPkg(t, map[string]string{
		"Doc_0/Pages/Page_0/Content.xml": page,
		"Doc_0/Pages/Page_1/Content.xml": `<!DOCTYPE x [<!ENTITY a "b">]><Page/>`,
	})
	text, problems, err := ofdPageText(pkg, "Doc_0/Document.xml", pages("Pages/Page_0/Content.xml", "Pages/Page_1/Content.xml", "Pages/Page_9/Content.xml", "../../x"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "使用有效期：2026年03月04日至2026年08月30日"; text != want {
		t.Errorf("text %q, want %q", text, want)
	}
	if p := printedUsage(text); len(p) != 1 || p[0] != [2]string{"2026-03-04", "2026-08-30"} {
		t.Errorf("printed %v", p)
	}
	all := strings.Join(problems, "; ")
	for _, want := range []string{"directives", "Page_9/Content.xml missing", "leaves the package"} {
		if !strings.Contains(all, want) {
			t.Errorf("problems %q lack %q", all, want)
		}
	}
	many := make([]string, maxTextPages+1)
	for i := range many {
		many[i] = "Pages/Page_0/Content.xml"
	}
	if _, _, err := ofdPageText(pkg, "Doc_0/Document.xml", pages(many...)); err == nil {
		t.Error("more than maxTextPages pages accepted")
	}
	if _, _, err := ofdPageText(pkg, "Doc_0/Document.xml", pages()); err == nil {
		t.Error("no pages accepted")
	}
}

func TestPrintedUsageForms(t *testing.T) {
	cases := map[string][][2]string{
		"使用有效期：2026年03月04日至2026年08月30日":                                   {{"2026-03-04", "2026-08-30"}},
		"使用有效期: 2026 年 3 月 4 日 至 2026 年 8 月 30 日":                         {{"2026-03-04", "2026-08-30"}},
		"用途：x使用有效期：2026年03月04日至2026年08月30日y使用有效期：2026年01月01日至2099年12月31日": {{"2026-03-04", "2026-08-30"}, {"2026-01-01", "2099-12-31"}},
		"使用有效期：2026年03月04日":                                               nil,
		"有效期至2026年08月30日":                                                 nil,
	}
	for in, want := range cases {
		got := printedUsage(in)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: got %v, want %v", in, got, want)
		}
	}
}
