// Package cpuprofile starts a CPU profile into a file: serve's hidden
// --cpuprofile flag, and the load benchmark's own profiles (bench/).
package cpuprofile

import (
	"os"
	"runtime/pprof"
)

// Start writes a CPU profile of the process to path (created or
// truncated) until the returned function is called.
func Start(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
