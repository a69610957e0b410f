package clientauth

import (
	"encoding/base64"
	"strings"
	"testing"
)

// TestLongCredentials covers the paths past the stack buffers: Basic
// credentials longer than 192 bytes, secrets longer than 128.
func TestLongCredentials(t *testing.T) {
	for _, n := range []int{31, 32, 33, 127, 128, 129, 191, 192, 193, 1000} {
		sec := strings.Repeat("s", n)
		id := "client-" + strings.Repeat("i", n%7)
		gotID, gotSec, ok := ParseBasic("Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+sec)))
		if !ok || gotID != id || gotSec != sec {
			t.Errorf("ParseBasic of a %d-byte secret = %q, %d bytes, %v", n, gotID, len(gotSec), ok)
		}
		for _, conf := range []string{HashSHA256(sec), "plain:" + sec} {
			s, err := ParseSecret(conf)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Verify(sec) || s.Verify(sec+"x") || s.Verify(sec[1:]) {
				t.Errorf("Verify of a %d-byte secret against %s is wrong", n, s.Kind())
			}
		}
	}
}
