//go:build !linux

package cluster

import "os/exec"

func setPdeathsig(*exec.Cmd) {}
