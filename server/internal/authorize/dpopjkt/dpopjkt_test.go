package dpopjkt

import (
	"strings"
	"testing"

	"github.com/signet-id/signet/server/internal/authorize"
)

const (
	jktA = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
	jktB = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
)

func TestAuthorize(t *testing.T) {
	for _, tc := range []struct {
		name     string
		params   map[string]string
		proofJKT string
		want     string // bound jkt
		err      string // error code
	}{
		{"none", map[string]string{}, "", "", ""},
		{"dpop_jkt", map[string]string{"dpop_jkt": jktA}, "", jktA, ""},
		{"empty dpop_jkt", map[string]string{"dpop_jkt": ""}, "", "", "invalid_request"},
		{"short dpop_jkt", map[string]string{"dpop_jkt": jktA[:42]}, "", "", "invalid_request"},
		{"not base64url", map[string]string{"dpop_jkt": strings.Repeat("+", 43)}, "", "", "invalid_request"},
		{"PAR proof alone", map[string]string{}, jktB, jktB, ""},
		{"PAR proof and the same dpop_jkt", map[string]string{"dpop_jkt": jktB}, jktB, jktB, ""},
		{"PAR proof and another dpop_jkt", map[string]string{"dpop_jkt": jktA}, jktB, "", "invalid_dpop_proof"},
	} {
		var b authorize.Binding
		e := DPoPJKT{}.Authorize(&authorize.Request{ClientID: "app", Params: tc.params, Binding: &b, DPoPJKT: tc.proofJKT})
		code := ""
		if e != nil {
			code = e.Code
		}
		if code != tc.err || (e == nil && b.DPoPJKT != tc.want) {
			t.Errorf("%s: bound %q, error %v; want %q, %q", tc.name, b.DPoPJKT, e, tc.want, tc.err)
		}
	}
}

func TestRedeem(t *testing.T) {
	for _, tc := range []struct {
		name         string
		bound, proof string
		wantRefused  bool
	}{
		{"unbound code, no proof", "", "", false},
		{"unbound code, a proof", "", jktA, false},
		{"bound code, its key", jktA, jktA, false},
		{"bound code, no proof", jktA, "", true},
		{"bound code, another key", jktA, jktB, true},
	} {
		e := DPoPJKT{}.Redeem(&authorize.Binding{DPoPJKT: tc.bound}, &authorize.Redemption{DPoPJKT: tc.proof})
		if (e != nil) != tc.wantRefused || (e != nil && e.Code != "invalid_grant") {
			t.Errorf("%s: %v", tc.name, e)
		}
	}
}
