package clientreg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/clientauth"
)

// Sentinel errors. Errors of a Store wrap them with %w.
var (
	// ErrNotFound: no client or resource with that id in the store.
	ErrNotFound = errors.New("clientreg: not found")
	// ErrExists: a client or resource with that id is already stored.
	ErrExists = errors.New("clientreg: already exists")
	// ErrConflict: the record changed since the revision the caller read
	// (an HTTP If-Match that no longer matches: 412).
	ErrConflict = errors.New("clientreg: revision conflict")
	// ErrReserved: the id is defined in the configuration file, which is
	// read-only at run time; the error names the file.
	ErrReserved = errors.New("clientreg: defined in the configuration file")
	// ErrInvalid: the record breaks a rule of the registry itself (no
	// id, a secret that is not a hash, ...); the error names the field.
	ErrInvalid = errors.New("clientreg: invalid record")
)

// Actions recorded in the audit log.
const (
	ActionCreate       = "create"
	ActionUpdate       = "update"
	ActionDelete       = "delete"
	ActionRotateSecret = "rotate-secret"
)

// Kinds of record, as the audit log names them.
const (
	KindClient   = "client"
	KindResource = "resource"
)

// Well-known authors of changes (Change.By); the admin API records the
// client_id of the token's client instead.
const (
	ByCLI     = "cli"
	ByDynamic = "dynamic" // RFC 7591 dynamic registration
)

// Page bounds.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// DefaultPollInterval is how often a server reads the change marker.
const DefaultPollInterval = 250 * time.Millisecond

// Secret is a stored client or resource secret: only its hash.
type Secret struct {
	// Hash is sha256:<hex> or an argon2id PHC string, as `signet
	// hash-secret` prints; never the secret, never plain:.
	Hash string `json:"hash"`
	// CreatedAt is when the secret was added.
	CreatedAt time.Time `json:"createdAt"`
	// ExpiresAt, when set, is when the secret stops being accepted: the
	// end of the grace period of a rotated-out secret.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// ValidAt reports whether the secret is still accepted at t.
func (s Secret) ValidAt(t time.Time) bool {
	return s.ExpiresAt == nil || t.Before(*s.ExpiresAt)
}

// Meta is what the registry keeps about a record beside its content.
type Meta struct {
	// Revision changes with every write of the record (it is the store's
	// change marker at that write, so it never repeats, not even after a
	// delete and a new create). ETag renders it for HTTP.
	Revision  int64     `json:"revision"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// CreatedBy and UpdatedBy are who made the change: a client_id (the
	// admin API), ByCLI or ByDynamic.
	CreatedBy string `json:"createdBy"`
	UpdatedBy string `json:"updatedBy"`
}

// ETag returns the revision as an HTTP entity tag (quoted).
func (m Meta) ETag() string { return strconv.Quote(strconv.FormatInt(m.Revision, 10)) }

// ParseETag reads an entity tag written by ETag (quoted or not, W/ weak
// prefix allowed) back into a revision.
func ParseETag(s string) (int64, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "W/")
	if u, err := strconv.Unquote(s); err == nil {
		s = u
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w: entity tag %q is not a revision this server issued; read the record again for its ETag", ErrInvalid, s)
	}
	return n, nil
}

// Client is a client kept in the store. Its fields are the keys of a
// clients[] entry of the configuration file (docs/configuration.md) with
// the same meaning; lifetimes are written as there ("1h", "30d").
type Client struct {
	ClientID string   `json:"clientId"`
	Secrets  []Secret `json:"secrets,omitempty"`

	AllowedGrantTypes                     []string        `json:"allowedGrantTypes,omitempty"`
	AllowedScopes                         []string        `json:"allowedScopes,omitempty"`
	AccessTokenLifetime                   string          `json:"accessTokenLifetime,omitempty"`
	AllowedIdentityTokenSigningAlgorithms []string        `json:"allowedIdentityTokenSigningAlgorithms,omitempty"`
	TokenEndpointAuthMethod               string          `json:"tokenEndpointAuthMethod,omitempty"`
	JWKS                                  json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                               string          `json:"jwksUri,omitempty"`
	RedirectURIs                          []string        `json:"redirectUris,omitempty"`
	PostLogoutRedirectURIs                []string        `json:"postLogoutRedirectUris,omitempty"`
	RefreshTokenLifetime                  string          `json:"refreshTokenLifetime,omitempty"`
	IdentityTokenLifetime                 string          `json:"identityTokenLifetime,omitempty"`
	RefreshTokenReuseInterval             string          `json:"refreshTokenReuseInterval,omitempty"`
	AllowedCORSOrigins                    []string        `json:"allowedCorsOrigins,omitempty"`
	RequirePushedAuthorizationRequests    *bool           `json:"requirePushedAuthorizationRequests,omitempty"`
	RequireDPoP                           *bool           `json:"requireDPoP,omitempty"`
	SecurityProfile                       string          `json:"securityProfile,omitempty"`

	// The consent page, the second factor, branding and the ways people
	// sign in (the file's keys of the same names, docs/configuration.md).
	// Records written before these fields existed have none of them and
	// keep their meaning: no consent page, no second factor required by
	// the client, no branding, every connector.
	RequireConsent       bool     `json:"requireConsent,omitempty"`
	AllowRememberConsent bool     `json:"allowRememberConsent,omitempty"`
	RequireMFA           bool     `json:"requireMfa,omitempty"`
	DisplayName          string   `json:"displayName,omitempty"`
	LogoURI              string   `json:"logoUri,omitempty"`
	ClientURI            string   `json:"clientUri,omitempty"`
	AllowedConnectors    []string `json:"allowedConnectors,omitempty"`

	// ClientName is a name for people (RFC 7591 client_name); Signet
	// does not interpret it.
	ClientName string `json:"clientName,omitempty"`
	// Extra keeps registration metadata Signet does not interpret (RFC
	// 7591 client_uri, logo_uri, contacts, ...), as a JSON object.
	Extra json.RawMessage `json:"extra,omitempty"`
	// RegistrationAccessTokenHash is the hash (as Secret.Hash) of the
	// RFC 7592 registration access token of a dynamically registered
	// client; empty otherwise. Redact removes it.
	RegistrationAccessTokenHash string `json:"registrationAccessTokenHash,omitempty"`

	Meta Meta `json:"meta"`
}

// Resource is an API resource kept in the store: the keys of an
// apiResources[] entry of the configuration file.
type Resource struct {
	Name                                string          `json:"name"`
	Scopes                              []string        `json:"scopes,omitempty"`
	AllowedAccessTokenSigningAlgorithms []string        `json:"allowedAccessTokenSigningAlgorithms,omitempty"`
	Secrets                             []Secret        `json:"secrets,omitempty"`
	JWKS                                json.RawMessage `json:"jwks,omitempty"`
	JWKSURI                             string          `json:"jwksUri,omitempty"`

	Meta Meta `json:"meta"`
}

// Change says who makes a write, and when; the store records it in the
// audit log with the write.
type Change struct {
	// By is a client_id (the admin API), ByCLI or ByDynamic. Required.
	By string
	// Action overrides the action recorded for an update (e.g.
	// ActionRotateSecret); empty means the method's own.
	Action string
	// At is the time of the change; zero means the store's clock.
	At time.Time
}

// Page asks for one page of a list.
type Page struct {
	// Cursor is the Next of the previous page; empty for the first.
	Cursor string
	// Limit is the page size: DefaultLimit when 0, at most MaxLimit.
	Limit int
}

// EffectiveLimit returns the page size Limit asks for.
func (p Page) EffectiveLimit() int {
	switch {
	case p.Limit <= 0:
		return DefaultLimit
	case p.Limit > MaxLimit:
		return MaxLimit
	}
	return p.Limit
}

// AuditEntry is one change in the audit log.
type AuditEntry struct {
	// Seq orders the log; it is the Revision the change gave the record.
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	Kind   string    `json:"kind"` // KindClient or KindResource
	ID     string    `json:"id"`
	// Before and After are the record as Redact shows it (no secret, no
	// hash); Before is null for a create, After for a delete.
	Before json.RawMessage `json:"before"`
	After  json.RawMessage `json:"after"`
}

// AuditQuery asks for a page of the audit log, newest first.
type AuditQuery struct {
	Page
	// Kind and ID, when set, keep the entries of one kind or record.
	Kind string
	ID   string
}

// Store keeps the registry. It is safe for concurrent use; every write is
// atomic with its audit entry and moves Mark. ifRevision 0 means "whatever
// is stored" (no precondition).
type Store interface {
	Client(ctx context.Context, id string) (Client, error)
	// Clients lists clients ordered by id; next is the cursor of the
	// following page, empty after the last.
	Clients(ctx context.Context, p Page) (list []Client, next string, err error)
	// CreateClient stores c (its Meta is filled in and returned);
	// ErrExists when the id is taken.
	CreateClient(ctx context.Context, c Client, ch Change) (Client, error)
	// UpdateClient replaces the client with c's id; ErrNotFound, or
	// ErrConflict when ifRevision is not the stored revision.
	UpdateClient(ctx context.Context, c Client, ifRevision int64, ch Change) (Client, error)
	DeleteClient(ctx context.Context, id string, ifRevision int64, ch Change) error

	Resource(ctx context.Context, name string) (Resource, error)
	Resources(ctx context.Context, p Page) (list []Resource, next string, err error)
	CreateResource(ctx context.Context, r Resource, ch Change) (Resource, error)
	UpdateResource(ctx context.Context, r Resource, ifRevision int64, ch Change) (Resource, error)
	DeleteResource(ctx context.Context, name string, ifRevision int64, ch Change) error

	// Audit returns a page of the audit log, newest first.
	Audit(ctx context.Context, q AuditQuery) (list []AuditEntry, next string, err error)
	// Mark is the change marker: it grows with every write by any
	// process sharing the store.
	Mark(ctx context.Context) (int64, error)
}

// Provider is a key store that can keep the registry (memstore,
// sqlitestore, pgstore), found by type assertion on the opened store.
type Provider interface {
	ClientRegistry() Store
}

// Validate checks the rules the registry itself enforces on a client;
// the configuration's rules (grant types, scopes, redirect URIs, ...) are
// checked when the registry is compiled with the file. Errors wrap
// ErrInvalid and name the field.
func (c *Client) Validate() error {
	if err := checkID("clientId", c.ClientID); err != nil {
		return err
	}
	if err := checkSecrets(c.Secrets); err != nil {
		return err
	}
	if h := c.RegistrationAccessTokenHash; h != "" {
		if err := checkHash("registrationAccessTokenHash", h); err != nil {
			return err
		}
	}
	if len(c.JWKS) > 0 && !json.Valid(c.JWKS) {
		return fmt.Errorf("%w: jwks is not JSON; give a JWK Set: {\"keys\": [...]}", ErrInvalid)
	}
	if len(c.Extra) > 0 {
		var m map[string]any
		if err := json.Unmarshal(c.Extra, &m); err != nil {
			return fmt.Errorf("%w: extra must be a JSON object", ErrInvalid)
		}
	}
	return nil
}

// Validate checks the rules the registry itself enforces on a resource.
func (r *Resource) Validate() error {
	if err := checkID("name", r.Name); err != nil {
		return err
	}
	if len(r.JWKS) > 0 && !json.Valid(r.JWKS) {
		return fmt.Errorf("%w: jwks is not JSON; give a JWK Set: {\"keys\": [...]}", ErrInvalid)
	}
	return checkSecrets(r.Secrets)
}

// checkID checks an id: printable ASCII (as the configuration's), at most
// 255 bytes.
func checkID(field, id string) error {
	if id == "" {
		return fmt.Errorf("%w: %s is required", ErrInvalid, field)
	}
	if len(id) > 255 {
		return fmt.Errorf("%w: %s is %d bytes long; keep it to 255", ErrInvalid, field, len(id))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return fmt.Errorf("%w: %s %q must be printable ASCII", ErrInvalid, field, id)
		}
	}
	return nil
}

func checkSecrets(secrets []Secret) error {
	for i, s := range secrets {
		if err := checkHash(fmt.Sprintf("secrets[%d].hash", i), s.Hash); err != nil {
			return err
		}
	}
	return nil
}

// checkHash accepts a secret hash: sha256:<hex> or argon2id, never plain.
func checkHash(field, h string) error {
	sec, err := clientauth.ParseSecret(h)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, field, err)
	}
	if sec.Kind() == clientauth.KindPlain {
		return fmt.Errorf("%w: %s: the store keeps only hashes, not plain: secrets; hash it with `signet hash-secret`", ErrInvalid, field)
	}
	return nil
}

// redactedSecret is a secret as the audit log and listings show it.
type redactedSecret struct {
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// Redact returns v (a Client or Resource) as JSON without secrets or
// hashes: each secret shows only when it was created and when it
// expires, the registration access token hash is dropped.
func Redact(v any) json.RawMessage {
	redact := func(list []Secret) []redactedSecret {
		if len(list) == 0 {
			return nil
		}
		out := make([]redactedSecret, len(list))
		for i, s := range list {
			out[i] = redactedSecret{CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
		}
		return out
	}
	switch x := v.(type) {
	case *Client:
		return Redact(*x)
	case *Resource:
		return Redact(*x)
	case Client:
		secrets := redact(x.Secrets)
		x.Secrets, x.RegistrationAccessTokenHash = nil, ""
		// The outer secrets field hides the embedded one.
		v = struct {
			Client
			Secrets []redactedSecret `json:"secrets,omitempty"`
		}{x, secrets}
	case Resource:
		secrets := redact(x.Secrets)
		x.Secrets = nil
		v = struct {
			Resource
			Secrets []redactedSecret `json:"secrets,omitempty"`
		}{x, secrets}
	default:
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// DefaultRotationGrace is how long a rotation keeps the old secrets valid
// unless told otherwise: a day to roll the new one out.
const DefaultRotationGrace = 24 * time.Hour

// Rotate returns the secrets after a rotation at now: fresh first, then
// the secrets of old still valid at now, each expiring at now+grace at
// the latest; with grace zero (or less) only fresh.
func Rotate(old []Secret, fresh Secret, now time.Time, grace time.Duration) []Secret {
	out := []Secret{fresh}
	if grace <= 0 {
		return out
	}
	end := now.Add(grace)
	for _, s := range old {
		if !s.ValidAt(now) {
			continue
		}
		if s.ExpiresAt == nil || s.ExpiresAt.After(end) {
			s.ExpiresAt = &end
		}
		out = append(out, s)
	}
	return out
}
