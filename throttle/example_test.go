package throttle_test

import (
	"context"
	"fmt"
	"time"

	"github.com/signet-id/signet/throttle"
)

// Two failed logins per minute for one username: the third attempt waits.
func ExampleLimiter_Reserve() {
	ctx := context.Background()
	l := throttle.NewLimiter(throttle.NewMemory(1000), nil)
	user := throttle.Key{Name: "user:alice", Limit: throttle.Limit{Max: 2, Window: time.Minute}}
	for range 3 {
		r, wait, err := l.Reserve(ctx, user)
		if err != nil {
			panic(err)
		}
		if r == nil {
			fmt.Println("refused, wait", wait > 0)
			continue
		}
		r.Failed() // a wrong password: the attempt stays counted
		fmt.Println("allowed")
	}
	// Output:
	// allowed
	// allowed
	// refused, wait true
}
