package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestNewBuildInfo(t *testing.T) {
	vcs := &debug.BuildInfo{
		Main: debug.Module{Path: "github.com/signet-id/signet", Version: "v0.0.0-20261127062732-42095fc18d38+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "-trimpath", Value: "true"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "42095fc18d38e33626faed5f6aff20f8b5c42d96"},
			{Key: "vcs.time", Value: "2026-11-27T06:27:32Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		o    overrides
		want buildInfo
	}{
		{"no build info", nil, overrides{}, buildInfo{Version: "(devel)"}},
		{"no VCS", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, overrides{}, buildInfo{Version: "(devel)"}},
		{"from the build info", vcs, overrides{},
			buildInfo{Version: "v0.0.0-20261127062732-42095fc18d38+dirty", Revision: "42095fc18d38e33626faed5f6aff20f8b5c42d96", Time: "2026-11-27T06:27:32Z", Modified: "true"}},
		{"ldflags win", vcs, overrides{"v1.2.3", "abc", "2026-12-01T00:00:00Z", "false"},
			buildInfo{Version: "v1.2.3", Revision: "abc", Time: "2026-12-01T00:00:00Z", Modified: "false"}},
		{"version only", vcs, overrides{version: "v1.2.3"},
			buildInfo{Version: "v1.2.3", Revision: "42095fc18d38e33626faed5f6aff20f8b5c42d96", Time: "2026-11-27T06:27:32Z", Modified: "true"}},
	} {
		if got := newBuildInfo(tc.bi, tc.o); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestVersionOutput(t *testing.T) {
	code, out, _ := runCLI(t, "", nil, "version")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	prefixes := []string{"signet ", "revision: ", "time: ", "modified: ", "go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, "signing backend: "}
	if len(lines) != len(prefixes) {
		t.Fatalf("version printed %d lines, want %d:\n%s", len(lines), len(prefixes), out)
	}
	for i, p := range prefixes {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("line %d = %q, want prefix %q", i+1, lines[i], p)
		}
	}
}

// TestVersionLdflags builds the binary with the -ldflags of the release
// script (without -trimpath, which would rebuild every package) and
// checks that their values are what signet version prints.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "signet")
	ldflags := "-s -w -X main.version=v9.8.7 -X main.revision=0123456789abcdef0123456789abcdef01234567" +
		" -X main.buildTime=2026-12-01T10:00:00Z -X main.modified=false"
	if out, err := exec.Command("go", "build", "-ldflags", ldflags, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("signet version: %v", err)
	}
	want := "signet v9.8.7\n" +
		"revision: 0123456789abcdef0123456789abcdef01234567\n" +
		"time: 2026-12-01T10:00:00Z\n" +
		"modified: false\n" +
		"go: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if !strings.HasPrefix(string(out), want) || !strings.Contains(string(out), "signing backend: ") {
		t.Errorf("signet version printed\n%s\nwant it to start with\n%s", out, want)
	}
}
