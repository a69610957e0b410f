package clientauth

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
)

// ParseBasic parses an HTTP Basic Authorization header value as RFC 6749
// section 2.3.1 defines it for clients: base64 of
// urlencode(client_id) ":" urlencode(client_secret). ok is false when
// header is not Basic or is malformed, or a part is not valid form
// encoding. The servers' endpoints use [ParseBasicCredentials], which also
// accepts clients that do not form-encode.
func ParseBasic(header string) (clientID, secret string, ok bool) {
	raw, ok := decodeBasic(header)
	if !ok {
		return "", "", false
	}
	id, sec, _ := strings.Cut(raw, ":")
	var err error
	if id, err = url.QueryUnescape(id); err != nil || id == "" {
		return "", "", false
	}
	if sec, err = url.QueryUnescape(sec); err != nil {
		return "", "", false
	}
	return id, sec, true
}

// decodeBasic returns the base64-decoded credentials of a Basic header,
// "id:secret" with a non-empty raw id.
func decodeBasic(header string) (string, bool) {
	const prefix = "basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", false
	}
	enc := strings.TrimSpace(header[len(prefix):])
	var buf [192]byte // the decoded credentials of a usual client, on the stack
	raw := buf[:0]
	if n := base64.StdEncoding.DecodedLen(len(enc)); n > len(buf) {
		raw = make([]byte, 0, n)
	}
	raw, err := base64.StdEncoding.AppendDecode(raw, []byte(enc))
	if err != nil {
		return "", false
	}
	s := string(raw) // one allocation for the id and the secret
	if i := strings.IndexByte(s, ':'); i <= 0 {
		return "", false
	}
	return s, true
}

// BasicCredentials are the client credentials of an HTTP Basic header,
// decoded per RFC 6749 section 2.3.1, with a fallback for clients that do
// not form-encode them (curl -u, authlib, many others):
//
//   - A part that is not valid form encoding (a '%' not followed by two hex
//     digits) is taken as sent.
//   - When the secret as sent contains '+', form decoding turned it into a
//     space. RawSecret then keeps the secret as sent, and
//     [VerifyBasic] accepts either: the decoded one first, the raw one only
//     if the decoded one does not match. Generated secrets (base64 with
//     '+', see `signet hash-secret`) thus work from any client.
//   - When the decoded id names no client, [BasicCredentials.Resolve] tries
//     the id as sent, and then the id up to each later ':' (an id that is a
//     URL, such as an API resource named https://api.example.com, sent
//     without encoding its colons), with the rest as the secret, as sent.
//     The longest known id wins (https://api.example.com:8443 over
//     https://api.example.com); the encoded form is never ambiguous.
//
// Nothing is tried that the client did not send: the fallbacks change
// only how its bytes are split and decoded.
type BasicCredentials struct {
	ID     string // the client id (for introspection, the API resource name)
	Secret string
	// RawSecret is the secret as sent when it contains '+' and differs
	// from Secret; "" otherwise.
	RawSecret string

	raw string // the decoded base64: "id:secret" as sent
}

// ParseBasicCredentials parses an HTTP Basic Authorization header value.
// ok is false when header is not Basic, is not base64, or has no ':' after
// a non-empty id.
func ParseBasicCredentials(header string) (c BasicCredentials, ok bool) {
	raw, ok := decodeBasic(header)
	if !ok {
		return c, false
	}
	c.raw = raw
	rawID, rawSecret, _ := strings.Cut(raw, ":")
	c.ID, c.Secret, c.RawSecret = formDecode(rawID), formDecode(rawSecret), ""
	if c.ID == "" {
		c.ID = rawID
	}
	if c.Secret != rawSecret && strings.IndexByte(rawSecret, '+') >= 0 {
		c.RawSecret = rawSecret
	}
	return c, true
}

// formDecode decodes form encoding, or returns s as sent when it is not
// valid form encoding. Values without '%' or '+' are returned without
// allocating.
func formDecode(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	d, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return d
}

// Resolve applies the id fallbacks when known (whether an id names a
// client) says the decoded id is unknown: the id as sent up to a ':' (the
// last one that gives a known id), with the rest as the secret as sent.
// It reports whether the id it leaves is known. It looks up at most
// maxResolveTries ids of at most maxResolveID bytes: its cost is bounded
// whatever the header.
func (c *BasicCredentials) Resolve(known func(id string) bool) bool {
	if known(c.ID) {
		return true
	}
	found := -1
	for i, n := strings.IndexByte(c.raw, ':'), 0; i > 0 && i <= maxResolveID && n < maxResolveTries; n++ {
		if known(c.raw[:i]) {
			found = i
		}
		j := strings.IndexByte(c.raw[i+1:], ':')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if found < 0 {
		return false
	}
	c.ID, c.Secret, c.RawSecret = c.raw[:found], c.raw[found+1:], ""
	return true
}

// Bounds of Resolve: a URL id has a few colons (scheme, port).
const (
	maxResolveID    = 512
	maxResolveTries = 8
)

// CheckBasic is [Check] for credentials from [ParseBasicCredentials]: it
// accepts Secret, or else RawSecret (see [BasicCredentials]). Fast secrets
// are compared against both, and so are argon2id secrets' remembered
// verifications, so a client that sends its '+' raw pays argon2id once,
// like any other. Otherwise argon2id runs on Secret, and on RawSecret only
// when there is one and Secret did not match: at most twice, each hash
// under b's memory budget, for a secret sent with a '+' that is either an
// encoded space (a passphrase from a client that form-encodes) or a '+'
// (from one that does not). Every comparison is constant-time. The error
// is b's: nothing was decided.
func CheckBasic(ctx context.Context, b Budget, secrets []*Secret, c BasicCredentials) (bool, error) {
	if c.RawSecret == "" {
		return Check(ctx, b, secrets, c.Secret)
	}
	if QuickBasic(secrets, c) {
		return true, nil
	}
	for _, p := range [2]string{c.Secret, c.RawSecret} {
		if ok, err := Check(ctx, b, secrets, p); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// QuickBasic is [Quick] for c: its Secret or its RawSecret matches a fast
// secret or an argon2id secret's remembered verification.
func QuickBasic(secrets []*Secret, c BasicCredentials) bool {
	ok := Quick(secrets, c.Secret)
	if c.RawSecret != "" && Quick(secrets, c.RawSecret) {
		ok = true
	}
	return ok
}

// VerifyBasic is [CheckBasic] without a hashing budget: for tools and
// tests (a server uses CheckBasic).
func VerifyBasic(secrets []*Secret, c BasicCredentials) bool {
	ok, _ := CheckBasic(context.Background(), nil, secrets, c)
	return ok
}

// IsBasic reports whether an Authorization header value uses the Basic
// scheme (well-formed or not).
func IsBasic(header string) bool {
	return len(header) >= 6 && strings.EqualFold(header[:6], "basic ")
}
