package grant

import (
	"context"
	"errors"
)

// RevocationReader is implemented by stores that tell whether a revocation
// record (a [KindRevocation] grant, the mark of a revoked access token) is
// stored with one lookup among the grants alone. Grant also looks among
// the one-time identifiers (kept apart, always [KindJTI]) when the grants
// lack an id, a second read that can never find a revocation record.
// Every store in this module implements it; [HasRevocation] uses it.
type RevocationReader interface {
	// HasRevocation reports whether a KindRevocation grant with id is
	// stored, expired or not (as Grant would return it).
	HasRevocation(ctx context.Context, id string) (bool, error)
}

// HasRevocation reports whether s holds a [KindRevocation] grant with id:
// with s's own HasRevocation when s is a [RevocationReader], else with
// Grant. Both answer alike: true exactly when Grant returns a
// KindRevocation grant.
func HasRevocation(ctx context.Context, s Store, id string) (bool, error) {
	if r, ok := s.(RevocationReader); ok {
		return r.HasRevocation(ctx, id)
	}
	g, err := s.Grant(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return g.Kind == KindRevocation, nil
}
