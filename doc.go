// Package signet turns a loaded Signet configuration ([config.Config], from
// a signet.yaml) into the parts `signet serve` runs: the key store, the
// sealer of private keys, the key backends, the key manager and the token
// server's configuration. `signet serve`, the `signet keys` commands and
// an embedding program share this wiring.
//
// To run managed keys from a Signet YAML file in your own program, use
// [OpenManager]:
//
//	cfg, err := config.Load("signet.yaml", os.LookupEnv)
//	...
//	keys, err := signet.OpenManager(ctx, cfg, logger)
//	...
//	defer keys.Close()
//	go keys.Manager.Run(ctx)
//	jwks, err := keys.Manager.JWKSHandler(cfg.JWKSMaxAge)
//
// The finer functions ([OpenStore], [NewSealer], [OpenKeyBackends],
// [ManagerConfig], [ServerConfig]) are the steps OpenManager and serve
// take, for a program that needs one of them alone.
package signet
