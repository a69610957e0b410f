package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/signet-id/signet/internal/procstat"
)

// CPUs: the server and every measured child on serverCPU, the load
// generator on loadCPU.
const (
	serverCPU = 0
	loadCPU   = 1
)

// stopTimeout is how long a child has to exit after SIGTERM before it is
// killed.
const stopTimeout = 10 * time.Second

// pinSelf moves every thread of this process to cpu and sets GOMAXPROCS to
// 1. sched_setaffinity applies to one thread; threads created later
// inherit the mask of the thread that creates them, so once every
// existing thread is pinned, all are. The loop repeats until no new
// thread appeared meanwhile.
func pinSelf(cpu int) error { return pinSelfCPUs(cpu) }

// pinSelfCPUs is pinSelf on several CPUs, with GOMAXPROCS their number.
func pinSelfCPUs(cpus ...int) error {
	runtime.GOMAXPROCS(len(cpus))
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	cpu := cpus[0]
	done := map[int]bool{}
	for range 10 {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("pin to CPU %d: %w", cpu, err)
		}
		fresh := 0
		for _, e := range ents {
			tid, err := strconv.Atoi(e.Name())
			if err != nil || done[tid] {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d to CPU %d: %w", tid, cpu, err)
			}
			done[tid] = true
			fresh++
		}
		if fresh == 0 {
			return nil
		}
	}
	return fmt.Errorf("pin to CPU %d: threads kept appearing", cpu)
}

// child is a process started by the benchmark, pinned to a CPU. It is
// stopped by stop, which every owner defers.
type child struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait returned
	err  error         // Wait's result, set before done closes
	tail *tailBuffer   // the last lines of its stderr (and stdout when not read)
	wg   sync.WaitGroup
}

// startPinned starts bin with args on cpu through taskset, GOMAXPROCS=1.
// The child gets its own process group, so a Ctrl-C reaches only this
// process, which stops it in order; if this process dies, the kernel
// kills the child (PR_SET_PDEATHSIG). onStderr, when set, sees each line
// of its stderr; stdout, when set, receives its standard output.
func startPinned(name string, cpu int, bin string, args []string, env []string, stdout io.Writer, onStderr func(string)) (*child, error) {
	return startPinnedCPUs(name, []int{cpu}, bin, args, env, stdout, onStderr)
}

// startPinnedCPUs is startPinned on several CPUs, GOMAXPROCS their
// number.
func startPinnedCPUs(name string, cpus []int, bin string, args []string, env []string, stdout io.Writer, onStderr func(string)) (*child, error) {
	list := make([]string, len(cpus))
	for i, c := range cpus {
		list[i] = strconv.Itoa(c)
	}
	argv := append([]string{"-c", strings.Join(list, ","), bin}, args...)
	cmd := exec.Command("taskset", argv...)
	cmd.Env = append(append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(len(cpus))), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c := &child{name: name, cmd: cmd, done: make(chan struct{}), tail: newTailBuffer(40)}
	if stdout != nil {
		cmd.Stdout = stdout
	} else {
		cmd.Stdout = c.tail
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c.wg.Go(func() {
		sc := bufio.NewScanner(errPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			c.tail.WriteLine(line)
			if onStderr != nil {
				onStderr(line)
			}
		}
		io.Copy(io.Discard, errPipe) // a line too long for the scanner
	})
	go func() { // owned by c: stop waits for done
		c.wg.Wait() // Wait must not run before the pipe is drained
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// pid returns the child's process id (taskset execs the program, so it is
// the program's pid once taskset has set the mask).
func (c *child) pid() int { return c.cmd.Process.Pid }

// exited reports whether the child has exited, and its error.
func (c *child) exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// stop sends SIGTERM, waits up to stopTimeout, then kills. It returns the
// child's exit error, nil for a clean exit after SIGTERM. Safe to call
// more than once.
func (c *child) stop() error {
	if ok, err := c.exited(); ok {
		return c.exitErr(err)
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(stopTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.cmd.Process.Kill()
		<-c.done
	}
	return c.exitErr(c.err)
}

func (c *child) exitErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w; its last output:\n%s", c.name, err, c.tail.String())
}

// tailBuffer keeps the last n lines written to it. Safe for concurrent
// use.
type tailBuffer struct {
	mu    sync.Mutex
	n     int
	lines []string
	part  []byte
}

func newTailBuffer(n int) *tailBuffer { return &tailBuffer{n: n} }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.addLocked(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	return len(p), nil
}

func (t *tailBuffer) WriteLine(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addLocked(s)
}

func (t *tailBuffer) addLocked(s string) {
	t.lines = append(t.lines, s)
	if len(t.lines) > t.n {
		t.lines = t.lines[len(t.lines)-t.n:]
	}
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "\n") + string(t.part)
}

// procRSS returns VmRSS in bytes from /proc/PID/status.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// procCPU returns the user+system CPU time of pid from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	st, err := procstat.Read(pid)
	if err != nil {
		return 0, err
	}
	return st.CPU(), nil
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU share of the server, of this process and of
// everything else on the server's CPU over a window.
type cpuMeter struct {
	pid        int
	wall       time.Time
	srv        time.Duration
	srvOK      bool
	loadBefore time.Duration
	cpu0, cpu1 cpuTimes
}

func startCPUMeter(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid, wall: time.Now(), loadBefore: selfCPU(), cpu0: readCPUTimes(serverCPU), cpu1: readCPUTimes(loadCPU)}
	if pid > 0 {
		var err error
		m.srv, err = procCPU(pid)
		m.srvOK = err == nil
	}
	return m
}

// cpuShares are fractions of one core over a window.
type cpuShares struct {
	server float64 // the measured server process (-1: unknown)
	load   float64 // this process, the load generator
	// other is the time the server's CPU ran anything but the server
	// (other processes, in user or system mode; interrupts and steal
	// excluded): the benchmark's disturbance. -1: unknown.
	other float64
	// loadOther is the same for the load generator's CPU: other
	// processes there slow the load down. -1: unknown.
	loadOther float64
	// serverIdle and loadIdle are the idle shares of the two CPUs: a
	// saturated server leaves its CPU no idle time. -1: unknown.
	serverIdle, loadIdle float64
}

// disturbance is the larger share of a CPU other processes took from the
// server or the load generator.
func (c cpuShares) disturbance() float64 { return max(c.other, c.loadOther) }

func (m *cpuMeter) shares() cpuShares {
	wall := time.Since(m.wall).Seconds()
	sh := cpuShares{server: -1, other: -1, loadOther: -1, serverIdle: -1, loadIdle: -1, load: (selfCPU() - m.loadBefore).Seconds() / wall}
	var srv float64
	if m.srvOK {
		if now, err := procCPU(m.pid); err == nil {
			srv = (now - m.srv).Seconds()
			sh.server = srv / wall
		}
	}
	if end := readCPUTimes(serverCPU); end.ok && m.cpu0.ok {
		sh.other = max(0, (end.task-m.cpu0.task).Seconds()-srv) / wall
		sh.serverIdle = (end.idle - m.cpu0.idle).Seconds() / wall
	}
	if end := readCPUTimes(loadCPU); end.ok && m.cpu1.ok {
		sh.loadIdle = (end.idle - m.cpu1.idle).Seconds() / wall
		sh.loadOther = max(0, (end.task-m.cpu1.task).Seconds()/wall-sh.load)
	}
	return sh
}

// cpuTimes is one CPU's line of /proc/stat.
type cpuTimes struct {
	task time.Duration // user + nice + system: time running tasks
	idle time.Duration // idle + iowait
	ok   bool
}

func readCPUTimes(cpu int) cpuTimes {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}
	}
	prefix := "cpu" + strconv.Itoa(cpu) + " "
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			f := strings.Fields(v) // user nice system idle iowait irq softirq steal ...
			if len(f) < 5 {
				break
			}
			var n [5]int64
			for i := range n {
				var err error
				if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
					return cpuTimes{}
				}
			}
			const hz = 100 // USER_HZ
			return cpuTimes{task: time.Duration(n[0]+n[1]+n[2]) * time.Second / hz, idle: time.Duration(n[3]+n[4]) * time.Second / hz, ok: true}
		}
	}
	return cpuTimes{}
}

// sleepCtx sleeps for d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// quietShare is the most CPUs 0 and 1 may be busy, between phases, for
// the machine to count as quiet.
const quietShare = 0.05

// waitQuiet waits until CPUs 0 and 1 were both at most quietShare busy
// over half a second, or until max passed. It reports whether they were.
// Between phases the benchmark's own processes are idle, so what it sees
// is other work on the machine.
func waitQuiet(ctx context.Context, limit time.Duration) (bool, error) {
	const sample = 500 * time.Millisecond
	deadline := time.Now().Add(limit)
	for {
		a0, a1, start := readCPUTimes(serverCPU), readCPUTimes(loadCPU), time.Now()
		if err := sleepCtx(ctx, sample); err != nil {
			return false, err
		}
		b0, b1, wall := readCPUTimes(serverCPU), readCPUTimes(loadCPU), time.Since(start).Seconds()
		if !a0.ok || !a1.ok || !b0.ok || !b1.ok {
			return true, nil // no /proc/stat: nothing to wait for
		}
		busy0 := 1 - (b0.idle-a0.idle).Seconds()/wall
		busy1 := 1 - (b1.idle-a1.idle).Seconds()/wall
		if busy0 <= quietShare && busy1 <= quietShare {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
	}
}
