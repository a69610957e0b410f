package user

import "context"

type refreshKey struct{}

// ForRefresh marks ctx as the context of a refresh (the refresh_token
// grant): a source whose users live upstream (a federated login, a
// directory) checks the upstream user in Profiles.Active then, and only
// its own records elsewhere (sessions, code exchange, userinfo), so that
// a user disabled upstream stops refreshing within one refresh while the
// other checks stay cheap.
func ForRefresh(ctx context.Context) context.Context {
	return context.WithValue(ctx, refreshKey{}, true)
}

// IsRefresh reports whether ctx was marked by ForRefresh.
func IsRefresh(ctx context.Context) bool {
	v, _ := ctx.Value(refreshKey{}).(bool)
	return v
}
