package procstat

import (
	"errors"
	"os"
	"testing"
	"time"
)

// A stat line whose command name holds spaces and parentheses is split
// at the last ')'; times are in USER_HZ ticks.
func TestParse(t *testing.T) {
	line := "4242 (post gres) (x)) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 75 12 3 20 0 1 0 100 1000 10 18446744073709551615\n"
	s, err := parse([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{Name: "post gres) (x)", PPID: 17, User: 2500 * time.Millisecond, System: 750 * time.Millisecond,
		ChildUser: 120 * time.Millisecond, ChildSystem: 30 * time.Millisecond}
	if s != want || s.CPU() != 3250*time.Millisecond {
		t.Fatalf("parse = %+v, want %+v", s, want)
	}
	for _, bad := range []string{"", "4242 post gres S 1", "4242 (x) S 17 1 2", "4242 (x) S 17 4242 4242 0 -1 4194560 1 0 0 0 2x0 75 12 3 20"} {
		if _, err := parse([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

// Read reads this process's own stat line.
func TestReadSelf(t *testing.T) {
	s, err := Read(os.Getpid())
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if s.PPID != os.Getppid() || s.Name == "" {
		t.Fatalf("Read(self) = %+v, want parent %d", s, os.Getppid())
	}
}
