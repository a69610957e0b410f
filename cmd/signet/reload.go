package main

import (
	"github.com/signet-id/signet/config"
)

// reloadChanges lists what a reload changes in the clients, API resources
// and users, as slog attributes: for each, the ids added, removed and
// changed (lists, which JSON logs write as arrays). Empty lists are left
// out; nil means nothing changed.
func reloadChanges(was, now *config.Config) []any {
	var attrs []any
	add := func(what string, added, removed, changed []string) {
		for _, x := range []struct {
			suffix string
			ids    []string
		}{{"_added", added}, {"_removed", removed}, {"_changed", changed}} {
			if len(x.ids) > 0 {
				attrs = append(attrs, what+x.suffix, x.ids)
			}
		}
	}
	add(diffEntries(was.Clients, now.Clients, "clients", func(c config.Client) (string, config.Digest) { return c.ClientID, c.Digest }))
	add(diffEntries(was.APIResources, now.APIResources, "api_resources", func(r config.APIResource) (string, config.Digest) { return r.Name, r.Digest }))
	add(diffEntries(was.Users, now.Users, "users", func(u config.User) (string, config.Digest) { return u.Username, u.Digest }))
	return attrs
}

// diffEntries compares two lists of entries by id and digest.
func diffEntries[T any](was, now []T, what string, id func(T) (string, config.Digest)) (name string, added, removed, changed []string) {
	before := make(map[string]config.Digest, len(was))
	for _, x := range was {
		k, d := id(x)
		before[k] = d
	}
	seen := make(map[string]bool, len(now))
	for _, x := range now {
		k, d := id(x)
		seen[k] = true
		switch old, ok := before[k]; {
		case !ok:
			added = append(added, k)
		case old != d:
			changed = append(changed, k)
		}
	}
	for _, x := range was {
		if k, _ := id(x); !seen[k] {
			removed = append(removed, k)
		}
	}
	return what, added, removed, changed
}
