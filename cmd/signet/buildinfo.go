package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/signet-id/signet/signer/backend"
)

// Release builds override what the build info says with -ldflags, e.g.
//
//	go build -trimpath -ldflags "-X main.version=v1.2.3 -X main.revision=$(git rev-parse HEAD)" ./cmd/signet
//
// (main.version is declared in version.go). A build from a source
// archive without .git has no VCS information of its own; these fill it
// in. Empty means "take it from the build info".
var (
	revision  = "" // the full VCS revision
	buildTime = "" // the commit time, RFC 3339
	modified  = "" // "true" or "false": whether the tree had uncommitted changes
)

// buildInfo is what signet version prints.
type buildInfo struct {
	Version   string // v1.2.3, or (devel)
	Revision  string // empty when unknown
	Time      string // the commit time; empty when unknown
	Modified  string // "true", "false", or empty when unknown
	GoVersion string // go1.26.8
	Platform  string // linux/amd64
	Backend   string // signer/backend's description
}

// overrides are the -ldflags values.
type overrides struct{ version, revision, time, modified string }

// currentBuildInfo describes the running binary.
func currentBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	b := newBuildInfo(bi, overrides{version, revision, buildTime, modified})
	b.GoVersion = runtime.Version()
	b.Platform = runtime.GOOS + "/" + runtime.GOARCH
	b.Backend = backend.Description()
	return b
}

// newBuildInfo reads the version and the VCS settings from bi (nil when
// the binary has none), each overridden by a non-empty value of o.
func newBuildInfo(bi *debug.BuildInfo, o overrides) buildInfo {
	var b buildInfo
	if bi != nil {
		b.Version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Revision = s.Value
			case "vcs.time":
				b.Time = s.Value
			case "vcs.modified":
				b.Modified = s.Value
			}
		}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&b.Version, o.version}, {&b.Revision, o.revision}, {&b.Time, o.time}, {&b.Modified, o.modified},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

// write prints b as signet version shows it: the version on the first
// line, then one "name: value" line each.
func (b buildInfo) write(w io.Writer) error {
	unknown := func(s string) string {
		if s == "" {
			return "unknown (built without VCS information; release builds set it with -ldflags)"
		}
		return s
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "signet %s\n", b.Version)
	fmt.Fprintf(&sb, "revision: %s\n", unknown(b.Revision))
	fmt.Fprintf(&sb, "time: %s\n", unknown(b.Time))
	fmt.Fprintf(&sb, "modified: %s\n", unknown(b.Modified))
	fmt.Fprintf(&sb, "go: %s %s\n", b.GoVersion, b.Platform)
	fmt.Fprintf(&sb, "%s\n", b.Backend)
	_, err := io.WriteString(w, sb.String())
	return err
}
