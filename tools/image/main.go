// Command image builds Signet's container image without a Docker daemon
// and checks it: the same runtime image as the Dockerfile's, made by
// appending one layer (the static binary, CA certificates, a nonroot user
// and /data) to an empty base with go-containerregistry.
//
//	go run ./image build -binary dist/signet -version V -revision R -created T -out image.oci
//	go run ./image check -layout image.oci -version V -revision R -rootfs DIR
//
// build writes an OCI image layout (a directory; push it with
// crane push image.oci REF). check reads it back, checks the image config
// (user, entrypoint, command, ports, volume, health check, OCI annotation
// labels) and unpacks the root filesystem into DIR, for the caller to run
// /signet from it. The Dockerfile must set the same config: check also
// reads it (-dockerfile) and fails when an instruction differs.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's contract, shared with the Dockerfile.
const (
	uid        = 65532 // distroless "nonroot"
	user       = "65532:65532"
	binaryPath = "/signet"
	dataDir    = "/data"
	port       = "8080/tcp"
	caBundle   = "/etc/ssl/certs/ca-certificates.crt"
	source     = "https://github.com/signet-id/signet"
)

var (
	entrypoint  = []string{binaryPath}
	defaultCmd  = []string{"serve", "--config", "/etc/signet/signet.yaml"}
	healthcheck = []string{"CMD", binaryPath, "healthcheck"}
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: image build|check|freeport [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "check":
		err = check(os.Args[2:])
	case "freeport":
		// A free loopback port for the caller's test server.
		var ln net.Listener
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err == nil {
			fmt.Println(ln.Addr().(*net.TCPAddr).Port)
			ln.Close()
		}
	default:
		err = fmt.Errorf("unknown command %q: use build, check or freeport", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "image: %v\n", err)
		os.Exit(1)
	}
}

// labels are the OCI annotations (image-spec annotations.md) as labels.
func labels(version, revision, created string) map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":         "signet",
		"org.opencontainers.image.description":   "An OpenID Connect / OAuth 2.0 token server whose signing keys manage themselves",
		"org.opencontainers.image.source":        source,
		"org.opencontainers.image.url":           source,
		"org.opencontainers.image.documentation": source + "/blob/main/docs/install.md",
		"org.opencontainers.image.version":       version,
		"org.opencontainers.image.revision":      revision,
		"org.opencontainers.image.created":       created,
	}
}

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ExitOnError)
	bin := fs.String("binary", "", "the static linux signet binary")
	version := fs.String("version", "", "the version (org.opencontainers.image.version)")
	revision := fs.String("revision", "", "the VCS revision")
	created := fs.String("created", "", "the commit time, RFC 3339 (also every file's mod time)")
	ca := fs.String("ca", caBundle, "the CA certificate bundle to copy into the image")
	arch := fs.String("arch", "amd64", "the binary's GOARCH")
	out := fs.String("out", "", "the OCI image layout directory to write")
	fs.Parse(args)
	if *bin == "" || *version == "" || *revision == "" || *created == "" || *out == "" {
		return errors.New("build needs -binary, -version, -revision, -created and -out")
	}
	mtime, err := time.Parse(time.RFC3339, *created)
	if err != nil {
		return fmt.Errorf("-created %q: %w", *created, err)
	}
	layerTar, err := rootfs(*bin, *ca, mtime)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = *arch, "linux"
	cf.Created = v1.Time{Time: mtime}
	cf.Config = v1.Config{
		User:         user,
		Entrypoint:   entrypoint,
		Cmd:          defaultCmd,
		WorkingDir:   dataDir,
		Env:          []string{"PATH=/"},
		ExposedPorts: map[string]struct{}{port: {}},
		Volumes:      map[string]struct{}{dataDir: {}},
		Labels:       labels(*version, *revision, *created),
		Healthcheck: &v1.HealthConfig{
			Test: healthcheck, Interval: 30 * time.Second, Timeout: 5 * time.Second,
			StartPeriod: 10 * time.Second, Retries: 3,
		},
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: mtime}); err != nil {
		return err
	}
	if err := os.RemoveAll(*out); err != nil {
		return err
	}
	p, err := layout.Write(*out, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img); err != nil {
		return err
	}
	d, _ := img.Digest()
	fmt.Printf("wrote %s (%s)\n", *out, d)
	return nil
}

// rootfs is the image's only layer: the binary, the CA bundle, a passwd
// and group naming the nonroot user, /data owned by it, and /tmp.
func rootfs(bin, ca string, mtime time.Time) ([]byte, error) {
	binary, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	certs, err := os.ReadFile(ca)
	if err != nil {
		return nil, fmt.Errorf("%w (install Debian's ca-certificates, or pass -ca)", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, owner int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: owner, Gid: owner, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(body)), ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	steps := []func() error{
		func() error { return dir("data", 0o700, uid) },
		func() error { return dir("etc", 0o755, 0) },
		func() error {
			return file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n"))
		},
		func() error {
			return file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
		},
		func() error { return dir("etc/ssl", 0o755, 0) },
		func() error { return dir("etc/ssl/certs", 0o755, 0) },
		func() error { return file(strings.TrimPrefix(ca, "/"), 0o644, certs) },
		func() error { return file(strings.TrimPrefix(binaryPath, "/"), 0o755, binary) },
		func() error { return dir("tmp", 0o1777, 0) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func check(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	dir := fs.String("layout", "", "the OCI image layout directory")
	version := fs.String("version", "", "the expected version")
	revision := fs.String("revision", "", "the expected revision")
	dockerfile := fs.String("dockerfile", "", "the Dockerfile whose runtime stage must agree")
	rootfsDir := fs.String("rootfs", "", "unpack the root filesystem here")
	fs.Parse(args)
	if *dir == "" || *version == "" || *revision == "" || *rootfsDir == "" {
		return errors.New("check needs -layout, -version, -revision and -rootfs")
	}
	p, err := layout.FromPath(*dir)
	if err != nil {
		return err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	if len(im.Manifests) != 1 {
		return fmt.Errorf("%s holds %d images, want 1", *dir, len(im.Manifests))
	}
	img, err := p.Image(im.Manifests[0].Digest)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	c := cf.Config
	var problems []string
	expect := func(what string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			problems = append(problems, fmt.Sprintf("%s = %v, want %v", what, got, want))
		}
	}
	expect("user", c.User, user)
	expect("entrypoint", c.Entrypoint, entrypoint)
	expect("cmd", c.Cmd, defaultCmd)
	expect("exposed ports", c.ExposedPorts, map[string]struct{}{port: {}})
	expect("volumes", c.Volumes, map[string]struct{}{dataDir: {}})
	expect("os", cf.OS, "linux")
	if c.Healthcheck == nil {
		problems = append(problems, "no health check")
	} else {
		expect("health check", c.Healthcheck.Test, healthcheck)
	}
	for k, v := range labels(*version, *revision, c.Labels["org.opencontainers.image.created"]) {
		expect("label "+k, c.Labels[k], v)
	}
	if _, err := time.Parse(time.RFC3339, c.Labels["org.opencontainers.image.created"]); err != nil {
		problems = append(problems, "label org.opencontainers.image.created is not RFC 3339: "+err.Error())
	}
	if *dockerfile != "" {
		problems = append(problems, checkDockerfile(*dockerfile)...)
	}
	if len(problems) > 0 {
		return fmt.Errorf("image config:\n  %s", strings.Join(problems, "\n  "))
	}
	if err := unpack(img, *rootfsDir); err != nil {
		return err
	}
	d, _ := img.Digest()
	fmt.Printf("image %s: config ok (user %s, entrypoint %v, ports %v, volume %s, health check %v, %d labels); root filesystem in %s\n",
		d, c.User, c.Entrypoint, slices.Collect(mapKeys(c.ExposedPorts)), dataDir, c.Healthcheck.Test, len(c.Labels), *rootfsDir)
	return nil
}

func mapKeys(m map[string]struct{}) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// checkDockerfile checks that the Dockerfile's runtime stage declares the
// config this builder sets (the instructions as written there).
func checkDockerfile(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	want := []string{
		"USER " + user,
		"VOLUME [\"" + dataDir + "\"]",
		"EXPOSE " + port,
		`ENTRYPOINT ["` + binaryPath + `"]`,
		`CMD ["` + strings.Join(defaultCmd, `", "`) + `"]`,
		`CMD ["` + binaryPath + `", "healthcheck"]`,
	}
	// The last stage: everything after the last FROM.
	text := string(b)
	if i := strings.LastIndex(text, "\nFROM "); i >= 0 {
		text = text[i:]
	}
	var problems []string
	for _, w := range want {
		if !strings.Contains(text, w) {
			problems = append(problems, fmt.Sprintf("%s: the runtime stage lacks %q", path, w))
		}
	}
	return problems
}

// unpack writes the image's flattened file system into dir (regular
// files and directories only: the image has nothing else), with their
// modes and, when run as root, their owners.
func unpack(img v1.Image, dir string) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(name, filepath.Clean(dir)+string(filepath.Separator)) {
			return fmt.Errorf("layer entry %q leaves the root filesystem", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(name, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(name, os.FileMode(h.Mode)&os.ModePerm|modeSticky(h.Mode)); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("layer entry %q has type %c; the image holds only files and directories", h.Name, h.Typeflag)
		}
		// As root, the owners too (/data belongs to the nonroot user).
		if os.Geteuid() == 0 {
			if err := os.Lchown(name, h.Uid, h.Gid); err != nil {
				return err
			}
		}
	}
}

// modeSticky keeps the sticky bit of a tar mode (/tmp).
func modeSticky(mode int64) os.FileMode {
	if mode&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}
