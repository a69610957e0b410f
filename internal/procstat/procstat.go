package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrMalformed is Read's error for a stat line it cannot parse.
var ErrMalformed = errors.New("procstat: malformed /proc stat")

// Stat is what Read takes from a process's stat line.
type Stat struct {
	Name string // comm: the command name, without its parentheses
	PPID int
	// User and System are the process's CPU times; ChildUser and
	// ChildSystem those of its children that ended and were waited for.
	User, System, ChildUser, ChildSystem time.Duration
}

// CPU is the process's user and system CPU time.
func (s Stat) CPU() time.Duration { return s.User + s.System }

// hz is USER_HZ, the unit of the times: 100 on every Linux ABI Go
// supports.
const hz = 100

// Read reads /proc/PID/stat.
func Read(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return parse(b)
}

func parse(b []byte) (Stat, error) {
	// The command name may hold spaces and parentheses: it runs from the
	// first '(' to the last ')', and the fields follow.
	open, close := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || close < open {
		return Stat{}, ErrMalformed
	}
	f := strings.Fields(string(b[close+1:]))
	// After ')': state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
	if len(f) < 15 {
		return Stat{}, fmt.Errorf("%w: %d fields after the name", ErrMalformed, len(f))
	}
	var v [5]int64
	for i, idx := range []int{1, 11, 12, 13, 14} {
		n, err := strconv.ParseInt(f[idx], 10, 64)
		if err != nil {
			return Stat{}, fmt.Errorf("%w: field %d: %v", ErrMalformed, idx, err)
		}
		v[i] = n
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / hz }
	return Stat{Name: string(b[open+1 : close]), PPID: int(v[0]),
		User: tick(v[1]), System: tick(v[2]), ChildUser: tick(v[3]), ChildSystem: tick(v[4])}, nil
}
