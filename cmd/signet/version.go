package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/signer/backend"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(bi)
}

// versionFrom describes a build: the version (-ldflags or the module's),
// the VCS revision, its commit time and whether the tree had uncommitted
// changes ("modified"), the Go version and the platform. bi may be nil.
func versionFrom(bi *debug.BuildInfo) string {
	v := version
	var rev, at string
	modified := false
	if bi != nil {
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	s := "signet " + v
	switch {
	case rev == "":
		s += " (no VCS revision: built outside a git checkout, or with -buildvcs=false)"
	default:
		s += " revision " + rev
		if at != "" {
			s += " (" + at + ")"
		}
		if modified {
			s += ", modified: built from a tree with uncommitted changes"
		}
	}
	return s + "\n" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version, the VCS revision and the signing backend",
		Example: "  signet version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(e.stdout, "%s\n%s\n", versionString(), backend.Description())
			return err
		},
	}
}
