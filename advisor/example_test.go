package advisor_test

import (
	"fmt"
	"time"

	"github.com/signet-id/signet/advisor"
)

// Durations as the advisor and the timing checks write them.
func ExampleFormatDuration() {
	fmt.Println(advisor.FormatDuration(14*24*time.Hour), advisor.FormatDuration(36*time.Hour), advisor.FormatDuration(90*time.Minute))
	// Output: 14d 1d12h 1h30m
}
