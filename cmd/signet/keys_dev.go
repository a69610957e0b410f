package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/config"
)

// devKeysSource names the configuration of `keys --dev` in messages.
const devKeysSource = "signet serve --dev's configuration"

// devKeysConfig is the configuration `signet keys --dev` works with: the
// store of `signet serve --dev` in ./signet-data, with its generated
// protection secret. It creates nothing: without that data it fails.
func devKeysConfig() (*config.Config, error) {
	if _, err := os.Stat(filepath.Join(devDataDir, "signet.db")); errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no `signet serve --dev` data in ./%s; run signet serve --dev in this directory first (keys --dev inspects its keys)", devDataDir)
	}
	// The issuer and the demo client's hash do not matter to keys
	// commands; they only need values the configuration accepts.
	vars := map[string]string{
		"SIGNET_DEV_ISSUER":             "http://" + config.DefaultListen,
		"SIGNET_DEV_CLIENT_SECRET_HASH": clientauth.HashSHA256(devClientID),
	}
	return config.Parse(devYAML, config.ParseOptions{
		Source:    devKeysSource,
		LookupEnv: func(name string) (string, bool) { v, ok := vars[name]; return v, ok },
	})
}
