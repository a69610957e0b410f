// Command signet is Signet's command line: an OpenID Connect / OAuth 2.0
// token server whose signing keys manage themselves.
//
//	signet serve --config signet.yaml   run the server
//	signet serve --dev                  run a development server with a demo client, no config file
//	signet hash-secret                  hash a client secret read from stdin (sha256:, or --argon2id)
//	signet config check                 validate the configuration and its timing rules
//	signet keys list|rotate|revoke|reseal|export-jwks|timeline|status
//	                                    inspect and manage the keys in the configured store
//	signet version                      print the version
//
// Exit codes: 0 success (including a graceful shutdown on SIGTERM or
// SIGINT), 1 an error (configuration, broken timing rule, listen address,
// key store, a refused key operation), 2 a usage error (unknown command or
// flag, wrong arguments). Errors are printed on one line,
// prefixed "signet: ".
//
// Each subcommand lives in its own file and is registered in root.go, so
// new ones (keys, config check) are one file and one line each. Helpers
// they can share: config.Load with env.lookupEnv for --config, and
// signet.OpenStore, signet.NewSealer and signet.ManagerConfig (the
// library package at the module root, which embedders use too) to reach
// the configured key store the way serve does.
package main
