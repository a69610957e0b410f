package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/signet-id/signet/clientreg"
)

func newResourcesCmd(e *env) *cobra.Command {
	o := &registryOptions{}
	cmd := &cobra.Command{
		Use:   "resources",
		Short: "Manage the API resources kept in the store, beside those of the configuration file",
		Long: `resources works on the API resources kept in the store named by the
configuration (--config: sqlite or postgres), whether or not a server is
running; running instances serve a change within about a second.

The API resources of the configuration file are read-only here: list shows
them (SOURCE file) and the other commands refuse their names. A change that
would leave a client without a scope it uses is refused, naming the client.
Every change is written to the store's audit log. Exit codes: 0 success, 1
failure, 2 usage error.`,
		Example: `  signet resources add --config signet.yaml --name orders --scope orders.read,orders.write
  signet resources list --config signet.yaml`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return usageError{errors.New("resources needs a subcommand: add, list, show, update or delete (see signet resources --help)")}
		},
	}
	o.flags(cmd, "API resources")
	cmd.AddCommand(
		newResourcesAddCmd(e, o),
		newResourcesListCmd(e, o),
		newResourcesShowCmd(e, o),
		newResourcesUpdateCmd(e, o),
		newResourcesDeleteCmd(e, o),
	)
	return cmd
}

// resourceFlags are the fields of an API resource that add and update set.
type resourceFlags struct {
	scopes, algs      []string
	jwksURI, jwksFile string
	secretHash        string
	generateSecret    bool
	ifRevision        int64
}

func (f *resourceFlags) register(cmd *cobra.Command, update bool) {
	fl := cmd.Flags()
	verb := "the"
	if update {
		verb = "replace the"
	}
	fl.StringSliceVar(&f.scopes, "scope", nil, verb+" scopes clients may request for the API (scopes); repeat or separate with commas")
	fl.StringSliceVar(&f.algs, "signing-alg", nil, verb+" algorithms of tokens for the API (allowedAccessTokenSigningAlgorithms)")
	fl.StringVar(&f.jwksURI, "jwks-uri", "", "where the API publishes the keys it introspects with, private_key_jwt (jwksUri)")
	fl.StringVar(&f.jwksFile, "jwks-file", "", "a file holding the JWK Set of the API's public keys for introspection (jwks, stored inline)")
	fl.StringVar(&f.secretHash, "secret-hash", "", "an introspection secret's hash (from signet hash-secret); replaces the secrets")
	fl.BoolVar(&f.generateSecret, "generate-secret", false, "generate an introspection secret, printed once; replaces the secrets")
	if update {
		fl.Int64Var(&f.ifRevision, "if-revision", 0, "change the API resource only if it is still at this revision (see show)")
	}
}

// apply sets the fields whose flags were given on r; it returns a newly
// generated secret, if any.
func (f *resourceFlags) apply(cmd *cobra.Command, r *clientreg.Resource, s *registrySession) (string, error) {
	changed := cmd.Flags().Changed
	if changed("scope") {
		r.Scopes = slices.Clone(f.scopes)
	}
	if changed("signing-alg") {
		r.AllowedAccessTokenSigningAlgorithms = slices.Clone(f.algs)
	}
	if changed("jwks-uri") {
		r.JWKSURI = f.jwksURI
	}
	if changed("jwks-file") {
		r.JWKS = nil
		if f.jwksFile != "" {
			b, err := os.ReadFile(f.jwksFile)
			if err != nil {
				return "", fmt.Errorf("--jwks-file: %w", err)
			}
			if !json.Valid(b) {
				return "", fmt.Errorf("--jwks-file %s is not JSON; give the JWK Set of the API's public keys: {\"keys\": [...]}", f.jwksFile)
			}
			r.JWKS = b
		}
	}
	if f.secretHash != "" && f.generateSecret {
		return "", usageError{errors.New("--secret-hash and --generate-secret exclude each other")}
	}
	if r.JWKSURI != "" || len(r.JWKS) > 0 {
		if f.secretHash != "" || f.generateSecret {
			return "", usageError{errors.New("an API resource that introspects with private_key_jwt (--jwks-uri, --jwks-file) has no secret; leave out --secret-hash and --generate-secret")}
		}
		r.Secrets = nil
	}
	switch {
	case f.secretHash != "":
		r.Secrets = []clientreg.Secret{{Hash: f.secretHash, CreatedAt: s.now().UTC()}}
	case f.generateSecret:
		secret, sec, err := newSecret(s.now())
		if err != nil {
			return "", err
		}
		r.Secrets = []clientreg.Secret{sec}
		return secret, nil
	}
	return "", nil
}

// addedResource is what resources add and update print with --json.
type addedResource struct {
	Resource json.RawMessage `json:"resource"`
	Secret   string          `json:"secret,omitempty"`
}
