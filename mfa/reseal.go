package mfa

import (
	"context"
	"errors"

	"github.com/signet-id/signet/seal"
)

// ResealResult counts what Reseal did.
type ResealResult struct {
	Resealed   int // re-encrypted under the first secret
	Current    int // already sealed under it
	Unreadable int // sealed under no configured secret
}

// Reseal re-encrypts every stored TOTP secret under the first of
// sealer's secrets (after a rotation of the protection secrets, before
// the old one is removed: `signet keys reseal` does it with the keys).
// Each secret is rewritten on its own, only if unchanged meanwhile, so an
// interrupted reseal leaves every secret readable.
func Reseal(ctx context.Context, st Store, sealer *seal.Sealer) (ResealResult, error) {
	var res ResealResult
	recs, err := st.ListTOTP(ctx)
	if err != nil {
		return res, err
	}
	for _, t := range recs {
		if sealer.SealedWithFirst(t.Secret) {
			res.Current++
			continue
		}
		raw, err := sealer.Open(sealID(t.Subject), sealAlg, t.Secret)
		if err != nil {
			res.Unreadable++
			continue
		}
		sealed, err := sealer.Seal(sealID(t.Subject), sealAlg, raw)
		if err != nil {
			return res, err
		}
		switch err := st.ResealTOTP(ctx, t.Subject, t.Secret, sealed); {
		case errors.Is(err, ErrNotFound): // replaced or deleted meanwhile: sealed under the first secret already
			res.Current++
		case err != nil:
			return res, err
		default:
			res.Resealed++
		}
	}
	return res, nil
}
