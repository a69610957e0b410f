package user_test

import (
	"context"
	"testing"

	"github.com/signet-id/signet/user"
)

func TestForRefresh(t *testing.T) {
	ctx := context.Background()
	if user.IsRefresh(ctx) {
		t.Error("a plain context is marked")
	}
	if !user.IsRefresh(user.ForRefresh(ctx)) {
		t.Error("ForRefresh does not mark")
	}
	child, cancel := context.WithCancel(user.ForRefresh(ctx))
	defer cancel()
	if !user.IsRefresh(child) {
		t.Error("the mark is lost in a child context")
	}
}
