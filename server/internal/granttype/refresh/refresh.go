package refresh

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/granttype"
	"github.com/signet-id/signet/server/internal/oauth"
	"github.com/signet-id/signet/user"
)

// GrantType is refresh_token.
const GrantType = "refresh_token"

// Handler is the refresh_token grant.
type Handler struct{ Env granttype.Env }

var _ granttype.Handler = Handler{}

// GrantType returns refresh_token.
func (Handler) GrantType() string { return GrantType }

// Public returns true: public clients refresh too.
func (Handler) Public() bool { return true }

// Handle redeems a refresh token with rotation (RFC 6749 6, RFC 9700
// 4.14.2): every use returns a new refresh token, and a second use of one
// revokes its whole family.
func (h Handler) Handle(req *granttype.Request) (*granttype.Response, *oauth.Error) {
	r, c := req.HTTP, req.Client
	refreshToken := req.Form["refresh_token"]
	ctx := r.Context()
	switch {
	case !c.Refresh:
		return nil, granttype.UnauthorizedClient(GrantType)
	case refreshToken == "":
		return nil, oauth.InvalidRequest("refresh_token is missing")
	}
	var d granttype.RefreshData
	g, e := h.Env.ReadGrant(ctx, refreshToken, grant.KindRefreshToken, &d, granttype.MsgBadRefresh, "refresh: reading the refresh token failed")
	if e != nil {
		if g.ID == "" && e.Code == "invalid_grant" { // not in the store
			h.supersededUsed(r, refreshToken, c, c.ID)
		}
		return nil, e
	}
	if g.ClientID != c.ID {
		return nil, oauth.InvalidGrant(granttype.MsgBadRefresh)
	}
	// A token bound to a DPoP key (a public client's, RFC 9449 section 5)
	// is redeemed only with a proof by that key; checked before reuse
	// detection, so that a thief without the key cannot revoke the family.
	if d.JKT != "" && subtle.ConstantTimeCompare([]byte(d.JKT), []byte(req.DPoPJKT)) != 1 {
		return nil, oauth.InvalidGrant("the refresh token is bound to a DPoP key: send a DPoP proof signed by it")
	}
	now := h.Env.Now()
	reused := !g.Consumed.IsZero() && g.Revoked.IsZero()
	if reused && !reuseAllowed(c, g, d, now) {
		h.refreshReused(r, g, d, c)
		return nil, oauth.InvalidGrant(granttype.MsgBadRefresh)
	}
	if !g.Revoked.IsZero() {
		return nil, h.Env.GrantRefused(r, g, "refresh token", "revoked")
	}
	if !now.Before(g.Expires) {
		return nil, h.Env.GrantRefused(r, g, "refresh token", "expired")
	}
	granted, _ := oauth.ParseScope(d.Scope)
	scopes := granted
	if req.Form["scope"] != "" {
		asked, e := oauth.ParseScope(req.Form["scope"])
		if e != nil {
			return nil, e
		}
		for _, sc := range asked {
			if !slices.Contains(granted, sc) {
				return nil, oauth.InvalidScope("scope '" + oauth.Clip(sc) + "' was not granted to this refresh token")
			}
		}
		scopes = asked
	}
	// A user from upstream is checked upstream at a refresh (connectors).
	if e := h.Env.UserActive(user.ForRefresh(ctx), g.Subject); e != nil {
		return nil, e
	}
	if e := h.Env.CheckScopes(req, scopes); e != nil {
		return nil, e
	}

	in := granttype.Issue{Subject: g.Subject, Scopes: scopes, AuthTime: d.AuthTime, AMR: d.AMR, ACR: d.ACR, SID: g.SessionID, JTI: d.NextJTI,
		IDTokenClaims: d.IDTokenClaims, UserinfoClaims: d.UserinfoClaims,
		Family: g.FamilyID, FamilyExpires: g.Expires, FamilyScope: d.Scope, Handle: SuccessorHandle(d.Seed, refreshToken)}
	successor := FamilyHandle(g.FamilyID, in.Handle)
	stored := false
	if reused {
		if stored, e = h.successorUnused(r, g, d, c, successor); e != nil {
			return nil, e
		}
	}
	body, alg, rt, e := h.Env.IssueUserTokens(req, in)
	if e != nil {
		return nil, e
	}
	if !reused {
		// One transaction: this token used up, its successor stored,
		// the family's older tokens deleted.
		g, e = h.Env.ConsumeGrant(ctx, g.ID, now, rt, granttype.MsgBadRefresh, "refresh: consuming the refresh token failed",
			func(g grant.Grant) {
				if reused = reuseAllowed(c, g, d, now); !reused { // lost a race within the interval: answer as its winner
					h.refreshReused(r, g, d, c)
				}
			})
		if e != nil && !reused {
			return nil, e
		}
		if reused {
			if stored, e = h.successorUnused(r, g, d, c, successor); e != nil {
				return nil, e
			}
		}
	}
	if reused && !stored {
		// The rotation was made by an earlier version, which stored the
		// successor on its own: store it (the same token, one row).
		if err := h.Env.Grants().CreateGrant(ctx, *rt); err != nil && !errors.Is(err, grant.ErrExists) {
			h.Env.Log().Error("storing a refresh token failed", "client_id", c.ID, "error", err)
			return nil, oauth.Unavailable()
		}
		// A reuse that raced revoked the family, this token included,
		// possibly before its successor was stored: check.
		if after, err := h.Env.Grants().Grant(ctx, g.ID); err != nil || !after.Revoked.IsZero() {
			h.refreshReused(r, g, d, c)
			return nil, oauth.InvalidGrant(granttype.MsgBadRefresh)
		}
	}
	return &granttype.Response{Body: body, Alg: alg}, nil
}

// refreshReused handles a second use of a refresh token: the token may be
// stolen, so its whole family is revoked with the access tokens known to
// it (the one issued with it and the one its first use issued).
func (h Handler) refreshReused(r *http.Request, g grant.Grant, d granttype.RefreshData, c *granttype.Client) {
	h.Env.Log().Warn("refresh token used twice; revoking its family", "client_id", g.ClientID, "sub", g.Subject)
	if err := h.Env.RevokeFamily(r.Context(), g.FamilyID, c.AccessLifetime, d.JTI, d.NextJTI); err != nil {
		h.Env.Log().Error("revoking a reused refresh token's family failed", "client_id", g.ClientID, "error", err)
	}
}

// FamilyHandle returns the handle of a refresh token of family whose
// secret part is secret.
func FamilyHandle(family, secret string) string {
	return family + "." + secret
}

// HandleFamily returns the family id a refresh-token handle starts with,
// or "" when it has none.
func HandleFamily(handle string) string {
	fam, secret, ok := strings.Cut(handle, ".")
	if !ok || !oauth.ValidHandle(secret) || len(fam) != FamilyIDLen {
		return ""
	}
	for i := 0; i < len(fam); i++ {
		if !oauth.Base64URLChar(fam[i]) {
			return ""
		}
	}
	return fam
}

// FamilyIDLen is the length of a family id: 16 random bytes, base64url.
const FamilyIDLen = 22

// ValidRefreshHandle reports whether v has the shape of a refresh token's
// handle: with a family id, or of an earlier version.
func ValidRefreshHandle(v string) bool {
	return oauth.ValidHandle(v) || HandleFamily(v) != ""
}

// supersededUsed handles a refresh token of the client lc that is not in
// the store: when its handle names a live family of that client, it is a
// superseded token of the family (deleted by a later rotation) used
// again, and the family is revoked with every access token its stored
// grants know.
func (h Handler) supersededUsed(r *http.Request, handle string, c *granttype.Client, clientID string) {
	fam := HandleFamily(handle)
	if fam == "" {
		return
	}
	gs, err := h.Env.Grants().FamilyGrants(r.Context(), fam)
	if err != nil {
		h.Env.Log().Error("reading the family of an unknown refresh token failed", "error", err)
		return
	}
	var jtis []string
	live := false
	for _, g := range gs {
		if g.ClientID != clientID {
			return
		}
		live = live || (g.Kind == grant.KindRefreshToken && g.Revoked.IsZero())
		var d granttype.RefreshData // a code's data has its jti too
		if json.Unmarshal(g.Data, &d) == nil {
			jtis = append(jtis, d.JTI, d.NextJTI)
		}
	}
	if !live {
		return
	}
	h.Env.Log().Warn("superseded refresh token used again; revoking its family", "client_id", clientID, "sub", gs[0].Subject)
	if err := h.Env.RevokeFamily(r.Context(), fam, c.AccessLifetime, jtis...); err != nil {
		h.Env.Log().Error("revoking a reused refresh token's family failed", "client_id", clientID, "error", err)
	}
}

// SuccessorHandle derives the handle of the refresh token that follows
// the one with handle, from its stored seed: HMAC-SHA256 under the seed.
// The store holds the seed and only the hash of handle, so a reader of
// the database cannot compute a successor; without the seed, neither can
// the holder of handle. An empty seed (a token of an earlier version)
// gives "": a random successor.
func SuccessorHandle(seed, handle string) string {
	if seed == "" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(seed))
	m.Write([]byte("signet refresh successor\x00"))
	m.Write([]byte(handle))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// reuseAllowed reports whether a second use at now of the consumed
// refresh token g is within its client's reuse interval. A consumption
// time after now (another instance's clock) counts as within.
func reuseAllowed(c *granttype.Client, g grant.Grant, d granttype.RefreshData, now time.Time) bool {
	return c.ReuseInterval > 0 && d.Seed != "" && g.Revoked.IsZero() && !g.Consumed.IsZero() &&
		now.Sub(g.Consumed) < c.ReuseInterval
}

// successorUnused checks, for a use within the reuse interval, that the
// presented token is the just-rotated one: its successor has not been
// used (or revoked). Otherwise it is a reuse after all: the family is
// revoked. stored reports whether the successor is in the store (a
// rotation by an earlier version stored it separately, maybe not yet).
func (h Handler) successorUnused(r *http.Request, g grant.Grant, d granttype.RefreshData, c *granttype.Client, successor string) (stored bool, e *oauth.Error) {
	next, err := h.Env.Grants().Grant(r.Context(), grant.HashHandle(successor))
	switch {
	case errors.Is(err, grant.ErrNotFound):
	case err != nil:
		h.Env.Log().Error("refresh: reading the successor of a reused refresh token failed", "error", err)
		return false, oauth.Unavailable()
	case !next.Consumed.IsZero() || !next.Revoked.IsZero():
		h.refreshReused(r, g, d, c)
		return true, oauth.InvalidGrant(granttype.MsgBadRefresh)
	default:
		stored = true
	}
	h.Env.Log().Info("refresh token presented again within the reuse interval; answered with its successor",
		"client_id", g.ClientID, "sub", g.Subject, "since_rotation", h.Env.Now().Sub(g.Consumed).String())
	return stored, nil
}
