package server

import (
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/signet-id/signet/server/internal/oauth"
)

// params is a parsed query string or form body of the login flows.
type params struct {
	// v holds each parameter's value. A parameter without a value is
	// treated as omitted (RFC 6749 section 3.1).
	v map[string]string
	// dups lists the parameters that appeared more than once with a
	// value; whether that is an error depends on the parameter.
	dups []string
}

// maxParams bounds the parameters of one request.
const maxParams = 64

// parseParams parses application/x-www-form-urlencoded text. ok is false
// when it is malformed or has more than maxParams parameters.
func parseParams(s string) (p params, ok bool) {
	return parseParamsInto(make(map[string]string), s)
}

// parseParamsInto is parseParams filling the empty map m.
func parseParamsInto(m map[string]string, s string) (p params, ok bool) {
	p.v = m
	n := 0
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		if n++; n > maxParams {
			return p, false
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return p, false
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return p, false
		}
		if val == "" {
			continue
		}
		if _, seen := p.v[name]; seen {
			if !slices.Contains(p.dups, name) {
				p.dups = append(p.dups, name)
			}
			continue
		}
		p.v[name] = val
	}
	return p, true
}

// dup returns the first of names that appeared more than once, or "".
func (p params) dup(names ...string) string {
	for _, d := range p.dups {
		if slices.Contains(names, d) {
			return d
		}
	}
	return ""
}

// readForm reads a POST body of the login flows: it must be
// application/x-www-form-urlencoded and at most s.maxBody bytes.
// Otherwise status is the HTTP status to answer with and reason says why.
func (s *Server) readForm(r *http.Request) (body string, status int, reason string) {
	ct := r.Header.Get("Content-Type")
	if ct != formContentType { // the exact type needs no parsing (which allocates)
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != formContentType {
			return "", http.StatusUnsupportedMediaType, "the request body must be application/x-www-form-urlencoded"
		}
	}
	if r.ContentLength > s.maxBody {
		return "", http.StatusRequestEntityTooLarge, "the request body is too large"
	}
	b, err := readBody(r.Body, r.ContentLength, s.maxBody)
	if err != nil {
		return "", http.StatusBadRequest, "the request body could not be read"
	}
	if int64(len(b)) > s.maxBody {
		return "", http.StatusRequestEntityTooLarge, "the request body is too large"
	}
	// b is readBody's own buffer and nothing else refers to it or writes
	// to it again, so the body string shares its bytes instead of copying
	// them (one allocation less per request, as strings.Builder does).
	return unsafe.String(unsafe.SliceData(b), len(b)), 0, ""
}

// readBody reads body, which announced n bytes (-1: unknown), up to
// limit+1 bytes. When n is known and at most limit it reads into one
// buffer of n+1 bytes (the extra byte sees a body longer than announced)
// instead of io.ReadAll's 512-byte start and growth: one allocation
// instead of two or three for an introspection or token request. Only
// up to readBodyPrealloc bytes are allocated on the client's word before
// they arrive; a longer body grows as it is read, so a client announcing
// the limit and sending nothing holds no more than that.
func readBody(body io.Reader, n, limit int64) ([]byte, error) {
	if n < 0 || n > limit || n > readBodyPrealloc {
		return io.ReadAll(io.LimitReader(body, limit+1))
	}
	b := make([]byte, n+1)
	k := 0
	for k < len(b) { // as io.ReadAll: EOF ends the body, another error fails
		m, err := body.Read(b[k:])
		k += m
		if err == io.EOF {
			return b[:k], nil
		}
		if err != nil {
			return nil, err
		}
	}
	// More than announced (net/http stops at Content-Length, so only a
	// body that is not net/http's): the rest, up to limit+1 in all.
	rest, err := io.ReadAll(io.LimitReader(body, limit+1-int64(k)))
	return append(b, rest...), err
}

// readBodyPrealloc is the longest announced body readBody allocates
// before reading it: every token, introspection and PAR request of a
// client in the load benchmark and the conformance tests is shorter.
const readBodyPrealloc = 8 << 10

// readOAuthForm reads the form body of a POST-only OAuth endpoint
// (introspection, revocation), with the token endpoint's errors.
func (s *Server) readOAuthForm(r *http.Request) (params, *oauth.Error) {
	if r.Method != http.MethodPost {
		return params{}, &oauth.Error{Status: http.StatusMethodNotAllowed, Code: "invalid_request", Desc: "this endpoint accepts POST only", Allow: http.MethodPost}
	}
	if r.URL.RawQuery != "" {
		return params{}, oauth.InvalidRequest("send the parameters in the body, not the URL query")
	}
	body, status, reason := s.readForm(r)
	if status != 0 {
		return params{}, &oauth.Error{Status: status, Code: "invalid_request", Desc: reason}
	}
	p, ok := parseParamsInto(paramsMapPool.Get().(map[string]string), body)
	if !ok {
		p.release()
		return params{}, oauth.InvalidRequest("the body is not valid application/x-www-form-urlencoded")
	}
	return p, nil
}

// paramsMapPool holds the emptied maps of released params (readOAuthForm),
// so that an introspection does not allocate one. A pool, not a field of
// Server: it is a cache with no observable state.
var paramsMapPool = sync.Pool{New: func() any { return make(map[string]string) }}

// release empties p's map and gives it back to paramsMapPool. The caller
// must not use p afterwards; its values (strings) stay valid.
func (p params) release() {
	if p.v == nil {
		return
	}
	clear(p.v)
	paramsMapPool.Put(p.v)
}
