package jwsverify

import (
	"bytes"
	"encoding/asn1"
	"math/big"
	"math/rand/v2"
	"testing"
)

// TestDERSignatureAsEncodingASN1: appendDERSignature encodes R‖S halves
// exactly as encoding/asn1 (and crypto/ecdsa) encode the two INTEGERs,
// for every size of curve, with leading zeros, high bits, zero and the
// largest values.
func TestDERSignatureAsEncodingASN1(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{32, 48, 66} {
		cases := [][2][]byte{
			{make([]byte, size), make([]byte, size)},
			{bytes.Repeat([]byte{0xff}, size), bytes.Repeat([]byte{0x7f}, size)},
		}
		for range 2000 {
			r, s := make([]byte, size), make([]byte, size)
			for i := range r {
				r[i], s[i] = byte(rng.UintN(256)), byte(rng.UintN(256))
			}
			// Leading zero bytes, and a high bit right after them.
			for i := range rng.IntN(4) {
				r[i] = 0
			}
			if z := rng.IntN(4); z < size {
				s[z] |= 0x80
				for i := range z {
					s[i] = 0
				}
			}
			cases = append(cases, [2][]byte{r, s})
		}
		for _, c := range cases {
			want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(c[0]), new(big.Int).SetBytes(c[1])})
			if err != nil {
				t.Fatal(err)
			}
			if got := appendDERSignature(nil, c[0], c[1]); !bytes.Equal(got, want) || len(got) > maxDERSignature {
				t.Fatalf("size %d, r %x s %x:\n got %x\nwant %x", size, c[0], c[1], got, want)
			}
		}
	}
}
