//go:build cgo

package keybackend

import (
	"errors"
	"testing"
	"time"

	"github.com/ThalesGroup/crypto11"
)

// TestConfigureTokenLooksAgain: a token the module does not list yet, or
// whose login failed with CKR_GENERAL_ERROR (SoftHSM, while another
// process rewrote the token's files), is looked for again and found; a wrong PIN is tried once only (retrying
// could lock a real token); a token that never appears is reported after
// a bounded number of lookups.
func TestConfigureTokenLooksAgain(t *testing.T) {
	notFound := errors.New("could not find PKCS#11 token")
	wrongPIN := errors.New("pkcs11: 0xA0: CKR_PIN_INCORRECT")
	general := errors.New("failed to log into long term session: pkcs11: 0x5: CKR_GENERAL_ERROR")
	found := &crypto11.Context{}
	for _, tc := range []struct {
		name    string
		answers []error // one per call; nil: found
		calls   int
		ok      bool
	}{
		{"listed", []error{nil}, 1, true},
		{"listed on the third look", []error{notFound, notFound, nil}, 3, true},
		{"wrong PIN", []error{wrongPIN, nil}, 1, false},
		{"a general error at login, then found", []error{general, nil}, 2, true},
		{"general errors only", []error{general, general, general, general, general, nil}, tokenLookups, false},
		{"never listed", []error{notFound, notFound, notFound, notFound, notFound, nil}, tokenLookups, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			var slept time.Duration
			ctx, err := configureToken(func(*crypto11.Config) (*crypto11.Context, error) {
				err := tc.answers[calls]
				calls++
				if err != nil {
					return nil, err
				}
				return found, nil
			}, &crypto11.Config{}, func(d time.Duration) { slept += d })
			if calls != tc.calls || (err == nil) != tc.ok || (ctx == found) != tc.ok {
				t.Fatalf("%d calls, context %v, error %v; want %d calls, ok %v", calls, ctx, err, tc.calls, tc.ok)
			}
			if want := time.Duration(tc.calls-1) * tokenLookupPause; slept != want {
				t.Errorf("paused %v, want %v", slept, want)
			}
		})
	}
}
