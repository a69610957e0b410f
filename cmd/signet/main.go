package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/signet-id/signet/config"
)

func main() {
	e := &env{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		lookupEnv: os.LookupEnv,
	}
	e.isTerminal = stdinIsTerminal
	e.readSecret = readTerminalSecret
	os.Exit(run(context.Background(), os.Args[1:], e))
}

// env is the command's view of the outside world, so tests can run it
// in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookupEnv      config.LookupEnv
	// isTerminal reports whether stdin is a terminal a person answers
	// (confirmation prompts); nil means it is not.
	isTerminal func() bool
	// readSecret prompts on the terminal and reads a line without echo
	// (hash-password); nil means there is no terminal to ask.
	readSecret func(prompt string) (string, error)
	// started, when set, is called once the server serves (tests).
	started func(startedInfo)
}

// readTerminalSecret prompts on stderr and reads a line from the terminal
// on stdin without echoing it.
func readTerminalSecret(prompt string) (string, error) {
	fmt.Fprint(os.Stderr, prompt)
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}

// startedInfo describes a running server.
type startedInfo struct {
	Addr      string // the address it listens on
	Issuer    string
	AdminAddr string // the admin listener's address; "" without one
}

// usageError marks a wrong command line (exit code 2).
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, e *env) int {
	root := newRootCmd(e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(e.stderr, "signet: %s\n", oneLine(err.Error()))
	var u usageError
	if errors.As(err, &u) || strings.HasPrefix(err.Error(), "unknown command") || strings.HasPrefix(err.Error(), "unknown flag") {
		return 2
	}
	return 1
}

// oneLine joins a multi-line message into one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
