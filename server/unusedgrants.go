package server

import (
	"sync"

	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/server/internal/oauth"
)

// unusedGrants remembers the authorization codes and refresh tokens this
// instance stored and has not seen used yet, so that their use (a code
// exchange, a refresh) skips reading them back from the grant store: a
// round trip to the database, and its CPU, per use. What a use reads is
// what cannot change once stored (kind, client, subject, family,
// session, data, times); whether the grant is still unused, unrevoked
// and unexpired is checked by the store's rotation itself, atomically,
// as every use already was (the read before it only decided what to
// answer). When that check refuses a grant taken from here (used or
// revoked at another instance, deleted), the request is handled again
// from the start with the grant read from the store (errRetryFromStore):
// the answer, the security log and a replay's revocation are those of a
// grant read from the store.
//
// An entry is taken at its first use, so a grant is served from here at
// most once; the capacity bounds the memory (about a kilobyte a grant),
// the oldest entries giving way first.
type unusedGrants struct {
	mu    sync.Mutex
	byID  map[string]*grantstore.Grant // nil: taken, its use not settled
	order []string                     // a ring of the ids in byID, oldest at next
	next  int
}

// unusedGrantsCapacity is how many grants unusedGrants keeps: the
// instance's recent sign-ins and refreshes, used within seconds.
const unusedGrantsCapacity = 4096

func newUnusedGrants(capacity int) *unusedGrants {
	return &unusedGrants{byID: make(map[string]*grantstore.Grant, capacity), order: make([]string, capacity)}
}

// put remembers g, just stored.
func (c *unusedGrants) put(g grantstore.Grant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[g.ID]; ok {
		return
	}
	if old := c.order[c.next]; old != "" {
		delete(c.byID, old)
	}
	c.order[c.next] = g.ID
	c.next = (c.next + 1) % len(c.order)
	c.byID[g.ID] = &g
}

// take returns the grant id as stored and marks it taken (used): it is
// not served again.
func (c *unusedGrants) take(id string) (grantstore.Grant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.byID[id]
	if g == nil {
		return grantstore.Grant{}, false
	}
	c.byID[id] = nil
	return *g, true
}

// settle forgets id and reports whether its use took it from here.
func (c *unusedGrants) settle(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	g, ok := c.byID[id]
	if ok && g == nil {
		delete(c.byID, id) // its ring slot is overwritten in turn
		return true
	}
	return false
}

// errRetryFromStore is the answer of a grant type whose grant, taken from
// unusedGrants, the store refused at its use: the token endpoint handles
// the request once more, the grant then read from the store. Never sent.
var errRetryFromStore = &oauth.Error{Code: "server_error", Desc: "internal: retry with the grant read from the store"}
