package signet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signet-id/signet"
	"github.com/signet-id/signet/config"
)

// Load a Signet YAML file and run its key manager in your own program.
func ExampleOpenManager() {
	dir, err := os.MkdirTemp("", "signet-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "signet.yaml")
	yaml := "issuer: https://api.example.com\nstorage: { driver: sqlite, dsn: signet.db }\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		panic(err)
	}

	ctx := context.Background()
	cfg, err := config.Load(path, os.LookupEnv)
	if err != nil {
		panic(err)
	}
	keys, err := signet.OpenManager(ctx, cfg, nil)
	if err != nil {
		panic(err)
	}
	defer keys.Close()
	// go keys.Manager.Run(ctx)
	jwks, err := keys.Manager.JWKSHandler(cfg.JWKSMaxAge)
	fmt.Println(keys.Manager.Ready(), jwks != nil, err)
	// Output: <nil> true <nil>
}
