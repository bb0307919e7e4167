package ofdsig

import (
	"bytes"
	"encoding/asn1"
	"testing"
)

func TestFullSignature(t *testing.T) {
	der := append([]byte{0x30, 0x44, 0x02, 0x20}, bytes.Repeat([]byte{1}, 32)...)
	der = append(der, 0x02, 0x20)
	der = append(der, bytes.Repeat([]byte{2}, 31)...)
	der = append(der, 0)
	raw := append(bytes.Repeat([]byte{3}, 63), 0)
	cases := []struct {
		name    string
		in, out []byte
	}{
		{"DER as is", der, der},
		{"DER with its last zero byte trimmed", der[:len(der)-1], der},
		{"raw r‖s as is", raw, raw},
		{"raw r‖s with its last zero byte trimmed", raw[:63], raw},
		{"too short to be a trimmed signature", raw[:40], raw[:40]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fullSignature(c.in)
			if !bytes.Equal(got, c.out) {
				t.Fatalf("got % x\nwant % x", got, c.out)
			}
		})
	}
}

func TestReadCertList(t *testing.T) {
	cert := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagOctetString, Bytes: []byte("cert")}
	digest, _ := asn1.Marshal(struct {
		Type  string `asn1:"printable"`
		Value []byte
	}{"sm3", []byte{1, 2, 3}})
	var dv asn1.RawValue
	asn1.Unmarshal(digest, &dv)
	other := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagInteger, Bytes: []byte{1}}
	cases := []struct {
		name          string
		typ           int
		list          []asn1.RawValue
		certs, digest int
		wantErr       bool
	}{
		{"type 1 certificates", 1, []asn1.RawValue{cert, cert}, 2, 0, false},
		{"type 2 digests", 2, []asn1.RawValue{dv}, 0, 1, false},
		{"type 1 with a digest", 1, []asn1.RawValue{dv}, 0, 0, true},
		{"type 2 with a certificate", 2, []asn1.RawValue{cert}, 0, 0, true},
		{"type 3 certificates (BaiWang OES)", 3, []asn1.RawValue{cert}, 1, 0, false},
		{"type 3 digests", 3, []asn1.RawValue{dv}, 0, 1, false},
		{"type 3 with an integer", 3, []asn1.RawValue{other}, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s Seal
			err := s.readCertList(c.typ, c.list)
			if (err != nil) != c.wantErr || len(s.CertList) != c.certs || len(s.CertDigest) != c.digest {
				t.Fatalf("err %v, %d certs, %d digests", err, len(s.CertList), len(s.CertDigest))
			}
		})
	}
}
