package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/signet-id/signet/internal/pgtest"
	"github.com/signet-id/signet/keystore/pgstore"
)

const envDSN = "SIGNET_TEST_POSTGRES_DSN"

var (
	// binary is the signet binary TestMain built.
	binary string
	// unavailable says why the process tests cannot run; nil when they
	// can.
	unavailable error
)

func TestMain(m *testing.M) {
	flag.Parse()
	var dir string
	switch {
	case os.Getenv(envDSN) == "":
		unavailable = errors.New(envDSN + " is not set: the cluster tests need PostgreSQL (.ci/run sets it)")
	case testing.Short():
		unavailable = errors.New("the cluster tests build and run signet processes: skipped with -short")
	default:
		dir, unavailable = os.MkdirTemp("", "signet-cluster-")
		if unavailable == nil {
			binary = filepath.Join(dir, "signet")
			unavailable = build(binary)
		}
	}
	if unavailable != nil && os.Getenv(envDSN) != "" && !testing.Short() {
		fmt.Fprintf(os.Stderr, "e2e/cluster: cluster tests skipped: %v\n", unavailable)
	}
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// build builds cmd/signet to bin.
func build(bin string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("cannot build the signet binary: %w", err)
	}
	out, err := exec.Command(goTool, "build", "-o", bin, "github.com/signet-id/signet/cmd/signet").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the signet binary does not build (go build ./cmd/signet): %v\n%s", err, out)
	}
	return nil
}

// needCluster skips the test unless the process tests can run, and
// returns the server's DSN.
func needCluster(t *testing.T) string {
	t.Helper()
	if unavailable != nil {
		t.Skip(unavailable)
	}
	return os.Getenv(envDSN)
}

// withParams sets run-time parameters of a URL or key=value DSN (later
// key=value settings override earlier ones).

// newSchema creates a schema of the test's own, dropped when the test
// ends (after its processes, whose cleanups are registered later), and
// returns its name and the server DSN with search_path and
// application_name set to it.
func newSchema(t *testing.T) (name, dsn string) {
	t.Helper()
	server := needCluster(t)
	b := make([]byte, 6)
	rand.Read(b)
	name = "signet_cluster_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to %s: %v", envDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop schema %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name, pgtest.WithParams(t, server, "search_path", name, "application_name", name)
}

// openStore opens the store of a schema DSN from the test process, with a
// small pool.
func openStore(t *testing.T, dsn string) *pgstore.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pgstore.Open(ctx, pgtest.WithParams(t, dsn, "pool_max_conns", "2"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// viaProxy starts a proxy to the server of dsn and returns it with dsn
// pointed at it.
func viaProxy(t *testing.T, dsn string) (*proxy, string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	network, upstream := "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	if strings.HasPrefix(cfg.Host, "/") {
		network, upstream = "unix", filepath.Join(cfg.Host, ".s.PGSQL."+strconv.Itoa(int(cfg.Port)))
	}
	p := startProxy(t, network, upstream)
	// No connection fallbacks: an outage must not reach the server some
	// other way.
	return p, pgtest.WithParams(t, dsn, "host", "127.0.0.1", "port", strconv.Itoa(p.Addr().Port))
}
