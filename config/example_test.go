package config_test

import (
	"fmt"

	"github.com/signet-id/signet/config"
)

// Parse a Signet configuration; Load reads one from a file.
func ExampleParse() {
	cfg, err := config.Parse([]byte("issuer: https://login.example.com\nstorage: { driver: memory }\n"), config.ParseOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(cfg.Issuer, cfg.Storage.Driver, cfg.JWKSMaxAge, len(cfg.CheckTiming()))
	// Output: https://login.example.com memory 1h0m0s 0
}
