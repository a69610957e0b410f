package key_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/signet-id/signet/key"
)

// The options of the reference, checked.
func ExampleOptions_Validate() {
	o := key.DefaultOptions()
	o.PropagationTime = o.RotationInterval
	fmt.Println(errors.Is(o.Validate(), key.ErrInvalidOptions))
	// Output: true
}

// TimingOptions.Validate applies the timing rules `signet config check`
// applies: here a relying party caches the JWKS for longer than a new key
// is announced before it signs.
func ExampleTimingOptions_Validate() {
	o := key.DefaultTimingOptions()
	o.LongestTokenLifetime = time.Hour
	fmt.Println(o.Validate())
	o.RelyingPartyCache = 14 * key.Day
	fmt.Println(errors.Is(o.Validate(), key.ErrUnsafeTiming))
	// Output:
	// <nil>
	// true
}

// The planner is pure: given the stored records and a time, it says what
// to create and what to publish.
func ExampleCompute() {
	plan := key.Compute(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil, key.DefaultOptions())
	fmt.Println(len(plan.Create))
	// Output: 1
}
