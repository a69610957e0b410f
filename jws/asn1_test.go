package jws

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"

	"github.com/signet-id/signet/key"
)

// seqOf wraps elements (already encoded) in a SEQUENCE.
func seqOf(elems ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

// tlv encodes one element with contents written as is.
func tlv(tag asn1.Tag, contents []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(tag, func(b *cryptobyte.Builder) { b.AddBytes(contents) })
	return b.BytesOrPanic()
}

func integer(contents []byte) []byte { return tlv(asn1.INTEGER, contents) }

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

func TestASN1ToRaw(t *testing.T) {
	for _, size := range []int{32, 48, 66} { // P-256, P-384, P-521
		tests := []struct {
			name string
			r, s []byte // INTEGER contents, as encoded
			want []byte
		}{
			{
				name: "full width",
				r:    rep(0x7f, size), s: rep(0x01, size),
				want: slices.Concat(rep(0x7f, size), rep(0x01, size)),
			},
			{
				name: "leading zero on r (high bit set)",
				r:    append([]byte{0}, rep(0x80, size)...), s: rep(0x01, size),
				want: slices.Concat(rep(0x80, size), rep(0x01, size)),
			},
			{
				name: "leading zero on both",
				r:    append([]byte{0}, rep(0xff, size)...), s: append([]byte{0}, rep(0xfe, size)...),
				want: slices.Concat(rep(0xff, size), rep(0xfe, size)),
			},
			{
				name: "r one byte short",
				r:    rep(0x42, size-1), s: rep(0x01, size),
				want: slices.Concat([]byte{0}, rep(0x42, size-1), rep(0x01, size)),
			},
			{
				name: "s much shorter",
				r:    rep(0x42, size), s: []byte{0x2a},
				want: slices.Concat(rep(0x42, size), rep(0, size-1), []byte{0x2a}),
			},
			{
				name: "short with a sign byte",
				r:    []byte{0x00, 0x80}, s: []byte{0x01},
				want: slices.Concat(rep(0, size-1), []byte{0x80}, rep(0, size-1), []byte{0x01}),
			},
			{
				name: "zero",
				r:    []byte{0}, s: []byte{0},
				want: rep(0, 2*size),
			},
			{
				name: "redundant zeros",
				r:    append(rep(0, 5), rep(0x33, size)...), s: append(rep(0, 3), 0x07),
				want: slices.Concat(rep(0x33, size), rep(0, size-1), []byte{0x07}),
			},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%d/%s", size, tt.name), func(t *testing.T) {
				got, err := asn1ToRaw(seqOf(integer(tt.r), integer(tt.s)), size)
				if err != nil {
					t.Fatalf("asn1ToRaw: %v", err)
				}
				if !bytes.Equal(got, tt.want) {
					t.Errorf("asn1ToRaw = %x; want %x", got, tt.want)
				}
			})
		}
	}
}

func TestASN1ToRawErrors(t *testing.T) {
	const size = 32
	good := integer(rep(0x11, size))
	valid := seqOf(good, good)
	tests := []struct {
		name string
		der  []byte
	}{
		{name: "nil", der: nil},
		{name: "empty", der: []byte{}},
		{name: "r oversize", der: seqOf(integer(rep(0x11, size+1)), good)},
		{name: "s oversize", der: seqOf(good, integer(rep(0x11, size+1)))},
		{name: "oversize after its sign byte", der: seqOf(integer(append([]byte{0}, rep(0x80, size+1)...)), good)},
		{name: "P-384 integer for P-256", der: seqOf(integer(rep(0x11, 48)), integer(rep(0x11, 48)))},
		{name: "not a SEQUENCE", der: good},
		{name: "SET instead of SEQUENCE", der: tlv(asn1.SET, slices.Concat(good, good))},
		{name: "trailing bytes after the SEQUENCE", der: append(bytes.Clone(valid), 0x00)},
		{name: "one INTEGER", der: seqOf(good)},
		{name: "three INTEGERs", der: seqOf(good, good, good)},
		{name: "empty SEQUENCE", der: seqOf()},
		{name: "OCTET STRING for s", der: seqOf(good, tlv(asn1.OCTET_STRING, rep(0x11, size)))},
		{name: "truncated", der: valid[:len(valid)-1]},
		{name: "length beyond the data", der: append([]byte{0x30, 0x7f}, valid[2:]...)},
		{name: "raw R||S", der: rep(0x11, 2*size)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := asn1ToRaw(tt.der, size)
			if err == nil {
				t.Fatalf("asn1ToRaw(%x) = %x; want an error", tt.der, got)
			}
			if got != nil {
				t.Errorf("asn1ToRaw returned bytes with an error")
			}
		})
	}
}

// The pre-encoded headers are byte for byte what the generic path encodes,
// so a token's header does not depend on which path built it.
func TestPreencodedHeaders(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(`kid "1"`, key.EdDSA, priv)
	if err != nil {
		t.Fatal(err)
	}
	if want := encodeHeader(key.EdDSA, k.kid, TypeAccessToken); k.atHeader != want {
		t.Errorf("atHeader = %s; want %s", k.atHeader, want)
	}
	if want := encodeHeader(key.EdDSA, k.kid, TypeJWT); k.jwtHeader != want {
		t.Errorf("jwtHeader = %s; want %s", k.jwtHeader, want)
	}
	if k.atHeader == k.jwtHeader {
		t.Errorf("the two pre-encoded headers are equal")
	}
}
