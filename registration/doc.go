// Package registration checks OAuth 2.0 dynamic client registration
// requests (RFC 7591) against the operator's policy (config
// dynamicRegistration) and holds the registration access tokens of the
// client configuration endpoint (RFC 7592).
//
// [Policy.Check] turns the metadata a client sent into the client Signet
// registers, or an [*Error] with the RFC 7591 section 3.2.2 code:
// invalid_redirect_uri (a redirect URI that is not https or loopback per
// RFC 8252 section 7.3, has a fragment, a wildcard or user information),
// invalid_client_metadata (grant types or scopes outside the policy, an
// unknown authentication method, inconsistent values) or
// unapproved_software_statement (software statements are refused: Signet
// has no configuration of trusted statement issuers).
//
// Registration access tokens and generated client secrets are 32 random
// bytes; only their SHA-256 is stored, compared in constant time
// (clientauth sha256 secrets).
package registration
