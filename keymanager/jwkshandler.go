package keymanager

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/key"
)

// JWKSSource is what a JWKS handler serves. [*Manager] implements it.
type JWKSSource interface {
	// JWKS returns the serialized JWK set and its strong ETag.
	JWKS() *JWKS
	// Ready returns nil when every configured algorithm can sign.
	Ready() error
}

// JWKSHandler serves a [JWKSSource] as a JWK set document (RFC 7517) for
// GET and HEAD: Cache-Control "public, max-age=N", a strong ETag, 304
// when If-None-Match matches (a list, weak tags or "*"), and
// Access-Control-Allow-Origin "*". Until the source is ready it answers
// 503 with Cache-Control no-store and Retry-After: a cacheable set missing
// a key would make relying parties reject valid tokens.
//
// Build it with [NewJWKSHandler] or [Manager.JWKSHandler].
type JWKSHandler struct {
	src          JWKSSource
	cacheControl string
	notReady     func(http.ResponseWriter)
}

// JWKSHandlerOptions configure a [JWKSHandler].
type JWKSHandlerOptions struct {
	// MaxAge is the Cache-Control max-age. Zero serves max-age=0.
	MaxAge time.Duration
	// NotReady, when set, writes the answer while the source is not
	// ready instead of the default 503 JSON error; it must not let the
	// answer be cached.
	NotReady func(http.ResponseWriter)
}

// NewJWKSHandler returns a handler serving src. It does not check MaxAge
// against a key schedule: [Manager.JWKSHandler] does.
func NewJWKSHandler(src JWKSSource, opts JWKSHandlerOptions) (*JWKSHandler, error) {
	if src == nil {
		return nil, errors.New("keymanager: NewJWKSHandler: the source is nil")
	}
	if opts.MaxAge < 0 {
		return nil, fmt.Errorf("keymanager: NewJWKSHandler: %w: MaxAge %s is negative", key.ErrInvalidOptions, opts.MaxAge)
	}
	h := &JWKSHandler{src: src, cacheControl: CacheControl(opts.MaxAge), notReady: opts.NotReady}
	if h.notReady == nil {
		h.notReady = WriteNotReady
	}
	return h, nil
}

// JWKSHandler returns a handler serving the manager's JWKS with a max-age
// bounded as Signet's server bounds it ([key.Options.EffectiveJWKSMaxAge]):
// zero means the default (key.DefaultJWKSMaxAge or propagationTime/2,
// whichever is smaller), and a value above propagationTime/2 is rejected
// with an error wrapping [key.ErrInvalidOptions], never capped: a relying
// party could otherwise cache a set without a new key until that key
// signs.
func (m *Manager) JWKSHandler(maxAge time.Duration) (*JWKSHandler, error) {
	v, err := m.opts.EffectiveJWKSMaxAge(maxAge)
	if err != nil {
		return nil, err
	}
	return NewJWKSHandler(m, JWKSHandlerOptions{MaxAge: v})
}

// CacheControl returns the Cache-Control value of a cacheable public
// document (the JWKS, discovery) with this max-age.
func CacheControl(maxAge time.Duration) string {
	return "public, max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
}

var (
	hdrJSON     = []string{"application/json"}
	hdrAnyOrig  = []string{"*"}
	hdrNoStore  = []string{"no-store"}
	hdrNoCache  = []string{"no-cache"}
	hdrRetry1   = []string{"1"}
	notReadyDoc = []byte(`{"error":"temporarily_unavailable","error_description":"the signing keys are not ready; retry shortly"}`)
)

// ServeHTTP implements [http.Handler]. Route it for GET: net/http's GET
// patterns match HEAD too and drop the body of a HEAD response.
func (h *JWKSHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	j := h.src.JWKS()
	if j == nil || h.src.Ready() != nil {
		w.Header()["Access-Control-Allow-Origin"] = hdrAnyOrig
		h.notReady(w)
		return
	}
	etag := j.ETag
	if !strings.HasPrefix(etag, `"`) {
		etag = `"` + etag + `"`
	}
	hd := w.Header()
	hd.Set("ETag", etag)
	hd.Set("Cache-Control", h.cacheControl)
	hd["Access-Control-Allow-Origin"] = hdrAnyOrig
	if inm := r.Header.Values("If-None-Match"); len(inm) > 0 && ETagMatches(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd["Content-Type"] = hdrJSON
	hd.Set("Content-Length", strconv.Itoa(len(j.Body)))
	w.Write(j.Body)
}

// WriteNotReady writes the default answer of a JWKS handler whose source
// is not ready: 503, an OAuth error temporarily_unavailable, no-store and
// Retry-After: 1.
func WriteNotReady(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["Pragma"] = hdrNoCache
	h["Retry-After"] = hdrRetry1
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(notReadyDoc)
}

// ETagMatches applies If-None-Match (RFC 9110 section 13.1.2) to etag: a
// list of entity tags compared weakly, or "*". headers are the request's
// If-None-Match values.
func ETagMatches(headers []string, etag string) bool {
	opaque := strings.TrimPrefix(etag, "W/")
	for _, h := range headers {
		for h != "" {
			var tag string
			tag, h, _ = strings.Cut(h, ",")
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == opaque {
				return true
			}
		}
	}
	return false
}

// Discovery is the part of an OpenID Provider's discovery document
// (OpenID Connect Discovery 1.0 section 3) that key management decides:
// where the JWKS is and which algorithms sign ID tokens. Embed it in a
// service's own discovery document.
type Discovery struct {
	JWKSURI                          string   `json:"jwks_uri"`
	IDTokenSigningAlgValuesSupported []string `json:"id_token_signing_alg_values_supported"`
}

// DiscoveryFields returns the JWKS location and signing algorithms of a
// discovery document: jwksURI as given, and the algorithms the manager
// signs with (static credential first, then the configured series).
func (m *Manager) DiscoveryFields(jwksURI string) Discovery {
	return DiscoveryOf(m, jwksURI)
}

// DiscoveryOf is [Manager.DiscoveryFields] for any source of signing
// algorithms.
func DiscoveryOf(src interface{ SigningAlgorithms() []key.Algorithm }, jwksURI string) Discovery {
	algs := src.SigningAlgorithms()
	d := Discovery{JWKSURI: jwksURI, IDTokenSigningAlgValuesSupported: make([]string, len(algs))}
	for i, a := range algs {
		d.IDTokenSigningAlgValuesSupported[i] = string(a)
	}
	return d
}
