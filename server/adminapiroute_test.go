package server

import (
	"net/http"
	"testing"
)

// The admin API is served on the admin handler, or on the public one
// (under the issuer's path) when there is no admin listener; never both.
func TestAdminAPIPlacement(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Admin-API", r.URL.Path) })
	for _, public := range []bool{false, true} {
		e := newLoginEnv(t, func(c *Config) { c.AdminAPI, c.AdminAPIPublic = api, public })
		pub, adm := get(e.s, "/admin/v1/keys"), get(e.s.AdminHandler(), "/admin/v1/keys")
		onPublic, onAdmin := pub.Header().Get("X-Admin-API") == "/admin/v1/keys", adm.Header().Get("X-Admin-API") == "/admin/v1/keys"
		if onPublic != public || onAdmin == public {
			t.Errorf("AdminAPIPublic %v: public %d (reached: %v), admin %d (reached: %v)", public, pub.Code, onPublic, adm.Code, onAdmin)
		}
	}
}
