package main

import (
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used. The other
// overrides and the output are in buildinfo.go.
var version = ""

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision and time, Go version and signing backend",
		Long: `version prints what the binary was built from: the version, the VCS
revision and commit time, whether the tree had uncommitted changes, the Go
version and platform, and the signing backend. They come from the build
information Go records; release builds set them with -ldflags
(-X main.version, main.revision, main.buildTime, main.modified).`,
		Example: "  signet version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return currentBuildInfo().write(e.stdout)
		},
	}
}
