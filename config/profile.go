package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/signet-id/signet/clientauth/privatekeyjwt"
	"github.com/signet-id/signet/key"
)

// SecurityProfile is clients[].securityProfile: a set of rules a client
// must follow, enforced as one switch.
type SecurityProfile string

// Security profiles. The zero value is no profile.
const (
	// ProfileFAPI2 is the FAPI 2.0 Security Profile (Final): pushed
	// authorization requests, PKCE S256, private_key_jwt (or mutual TLS),
	// DPoP-bound tokens, PS256/ES256/EdDSA signatures.
	ProfileFAPI2 SecurityProfile = "fapi2"
)

// securityProfiles are the values clients[].securityProfile accepts.
func securityProfiles() []SecurityProfile { return []SecurityProfile{ProfileFAPI2} }

// FAPI2SigningAlgorithms are the algorithms the FAPI 2.0 Security Profile
// allows for signatures: PS256, ES256, or EdDSA with Ed25519.
func FAPI2SigningAlgorithms() []key.Algorithm {
	return []key.Algorithm{key.PS256, key.ES256, key.EdDSA}
}

// FAPI2 reports whether the client follows the FAPI 2.0 Security Profile
// (securityProfile: fapi2).
func (cl *Client) FAPI2() bool { return cl.SecurityProfile == ProfileFAPI2 }

// AccessTokenSigningAlgorithms returns the algorithms that may sign an
// access token issued to the client for resources whose restriction is
// restricted (their allowedAccessTokenSigningAlgorithms in common; empty:
// none). For a FAPI 2.0 client it keeps only FAPI2SigningAlgorithms (all
// of them when restricted is empty); config check made sure one of those
// can sign for every resource the client may ask for. For other clients
// it is restricted unchanged.
func (cl *Client) AccessTokenSigningAlgorithms(restricted []key.Algorithm) []key.Algorithm {
	if !cl.FAPI2() {
		return restricted
	}
	if len(restricted) == 0 {
		return FAPI2SigningAlgorithms()
	}
	return slices.DeleteFunc(slices.Clone(restricted), func(a key.Algorithm) bool { return !slices.Contains(FAPI2SigningAlgorithms(), a) })
}

// resolveClientProfile resolves requirePushedAuthorizationRequests,
// requireDPoP and securityProfile of a client, after the rest of the
// client (cl) is resolved. With securityProfile: fapi2 it explains, in one
// error, every setting that contradicts the profile.
func (p *parser) resolveClientProfile(path string, cd *clientDoc, cl *Client, c *Config) error {
	code := slices.Contains(cl.AllowedGrantTypes, GrantAuthorizationCode)
	if cd.RequirePushedAuthorizationRequests != nil && *cd.RequirePushedAuthorizationRequests {
		if !code {
			return p.at(path+".requirePushedAuthorizationRequests", "(%s) applies to authorization requests (the login flow); add authorization_code to allowedGrantTypes or remove requirePushedAuthorizationRequests", cl.ClientID)
		}
	}
	if cd.RequirePushedAuthorizationRequests != nil && !*cd.RequirePushedAuthorizationRequests && c.RequirePushedAuthorizationRequests {
		return p.at(path+".requirePushedAuthorizationRequests", "(%s) false contradicts requirePushedAuthorizationRequests: true at the top level, which requires pushed authorization requests of every client; remove one of them", cl.ClientID)
	}
	cl.RequirePushedAuthorizationRequests = c.RequirePushedAuthorizationRequests ||
		(cd.RequirePushedAuthorizationRequests != nil && *cd.RequirePushedAuthorizationRequests)
	cl.RequireDPoP = cd.RequireDPoP != nil && *cd.RequireDPoP

	switch sp := SecurityProfile(cd.SecurityProfile); {
	case sp == "":
		return nil
	case !slices.Contains(securityProfiles(), sp):
		allowed := make([]string, 0, len(securityProfiles()))
		for _, s := range securityProfiles() {
			allowed = append(allowed, string(s))
		}
		return p.at(path+".securityProfile", "(%s) %q is not a security profile Signet knows; allowed values are %s (the FAPI 2.0 Security Profile), or omit securityProfile", cl.ClientID, cd.SecurityProfile, strings.Join(allowed, ", "))
	default:
		cl.SecurityProfile = sp
	}
	// The profile implies PAR and DPoP; an explicit false is a
	// contradiction, reported below.
	cl.RequirePushedAuthorizationRequests, cl.RequireDPoP = true, true
	if errs := p.fapi2Contradictions(path, cd, cl, c); len(errs) > 0 {
		return &ProfileError{Source: p.src, ClientID: cl.ClientID, Profile: ProfileFAPI2, Contradictions: errs}
	}
	if len(cd.AllowedIdentityTokenSigningAlgorithms) == 0 {
		cl.AllowedIdentityTokenSigningAlgorithms = fapi2Signable(c)
	}
	return nil
}

// ProfileError lists every setting of a client that contradicts its
// security profile. Its message names each on a line of its own, numbered
// ("[1] ..."), so it stays readable joined into one line.
type ProfileError struct {
	Source         string
	ClientID       string
	Profile        SecurityProfile
	Contradictions []error // each "file:line: setting: (client) what the profile requires; the fix"
}

func (e *ProfileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: client %s (securityProfile: %s) contradicts the FAPI 2.0 Security Profile in %d setting(s):", e.Source, e.ClientID, e.Profile, len(e.Contradictions))
	for i, c := range e.Contradictions {
		fmt.Fprintf(&b, "\n[%d] %s", i+1, c)
	}
	return b.String()
}

// Unwrap returns the contradictions.
func (e *ProfileError) Unwrap() []error { return e.Contradictions }

// fapi2Signable lists the FAPI 2.0 algorithms Signet signs with, in the
// order it prefers them.
func fapi2Signable(c *Config) []key.Algorithm {
	return slices.DeleteFunc(signableAlgorithms(c), func(a key.Algorithm) bool { return !slices.Contains(FAPI2SigningAlgorithms(), a) })
}

// fapi2Contradictions returns one error per setting of a fapi2 client
// that contradicts the FAPI 2.0 Security Profile (Final), each naming the
// client, the setting, what the profile requires and the fix. The
// profile's other rules are not settings: Signet answers only
// response_type=code, puts iss in every authorization response (RFC
// 9207) and gives codes a 60-second lifetime (server.CodeLifetime); PKCE
// with S256 is not configurable and is for the endpoints to require of
// fapi2 clients (Client.FAPI2). The profile allows the client_credentials
// grant: it refuses only the password grant, which Signet does not offer.
func (p *parser) fapi2Contradictions(path string, cd *clientDoc, cl *Client, c *Config) []error {
	var errs []error
	add := func(at, format string, args ...any) {
		errs = append(errs, p.at(at, "(%s) "+format, append([]any{cl.ClientID}, args...)...))
	}
	const auth = "set tokenEndpointAuthMethod: private_key_jwt with the client's public keys (jwks or jwksUri)"
	if cl.Public {
		add(path+".tokenEndpointAuthMethod", "none makes a public client, but FAPI 2.0 allows only confidential clients, authenticated by private_key_jwt or mutual TLS; %s", auth)
	}
	if len(cl.Secrets) > 0 {
		add(path+".secrets", "client secrets are not allowed: FAPI 2.0 authenticates clients by private_key_jwt or mutual TLS only; remove secrets and %s", auth)
	}
	if cl.JWKS != nil {
		if err := fapi2ClientKeys(cd); err != nil {
			add(path+".jwks", "FAPI 2.0 allows only %s for client assertions: %v", joinAlgs(FAPI2SigningAlgorithms()), err)
		}
	}
	if cd.RequirePushedAuthorizationRequests != nil && !*cd.RequirePushedAuthorizationRequests {
		add(path+".requirePushedAuthorizationRequests", "false, but FAPI 2.0 accepts authorization requests only when pushed (PAR); remove the setting: securityProfile: fapi2 requires pushed requests")
	}
	if cd.RequireDPoP != nil && !*cd.RequireDPoP {
		add(path+".requireDPoP", "false, but FAPI 2.0 issues only sender-constrained access tokens (DPoP or mutual TLS), and Signet binds them with DPoP; remove the setting: securityProfile: fapi2 requires DPoP")
	}
	fapi := FAPI2SigningAlgorithms()
	signable := fapi2Signable(c)
	if len(signable) == 0 {
		add("keyManagement.signingAlgorithms", "Signet signs only with %s, but FAPI 2.0 allows only %s for the client's tokens; add ES256 (or PS256, EdDSA) to keyManagement.signingAlgorithms",
			joinAlgs(signableAlgorithms(c)), joinAlgs(fapi))
		return errs
	}
	if bad := slices.DeleteFunc(slices.Clone(cl.AllowedIdentityTokenSigningAlgorithms), func(a key.Algorithm) bool { return slices.Contains(fapi, a) }); len(bad) > 0 {
		add(path+".allowedIdentityTokenSigningAlgorithms", "lists %s, but FAPI 2.0 allows only %s; remove %s, or remove the setting: a fapi2 client's ID tokens are signed with %s",
			joinAlgs(bad), joinAlgs(fapi), joinAlgs(bad), joinAlgs(signable))
	}
	for j, r := range c.APIResources {
		if len(r.AllowedAccessTokenSigningAlgorithms) == 0 || !slices.ContainsFunc(r.Scopes, func(s string) bool { return slices.Contains(cl.AllowedScopes, s) }) {
			continue
		}
		if !slices.ContainsFunc(r.AllowedAccessTokenSigningAlgorithms, func(a key.Algorithm) bool { return slices.Contains(signable, a) }) {
			fix := joinAlgs(signable)
			if len(signable) > 1 {
				fix = "one of " + fix
			}
			add(fmt.Sprintf("apiResources[%d].allowedAccessTokenSigningAlgorithms", j), "may ask for tokens for %s, which allows only %s, but FAPI 2.0 allows only %s; add %s to the resource's allowedAccessTokenSigningAlgorithms",
				r.Name, joinAlgs(r.AllowedAccessTokenSigningAlgorithms), joinAlgs(fapi), fix)
		}
	}
	return errs
}

// fapi2ClientKeys checks a fapi2 client's inline keys against the
// profile's algorithms, as its assertions are verified (server.Client.
// AssertionAlgorithms).
func fapi2ClientKeys(cd *clientDoc) error {
	data, err := json.Marshal(cd.JWKS)
	if err != nil {
		return err
	}
	_, err = privatekeyjwt.ParseKeySet(data, FAPI2SigningAlgorithms())
	return err
}
