package cluster

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel kill the child if the test process dies
// without running its cleanups (a panic, a timeout).
func setPdeathsig(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
