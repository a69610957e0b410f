// Package keymanager owns every signing key of a Signet issuer.
//
// A [Manager] loads managed keys from a [keystore.Store], decrypts them with
// a [seal.Sealer], asks the pure planner ([key.Compute]) what to do, does it
// (create, extend, delete — under the store's lock when it has one), and
// publishes an immutable snapshot: the key that signs for each algorithm,
// the static signing credential, and the JWKS bytes, serialized once per
// key change. The token path reads the snapshot through an atomic pointer
// and never touches the store.
//
// # Precedence (the seed's migration)
//
// A static signing credential signs in preference to managed keys, while
// managed keys are still created and announced. Validation keys are only
// published. The JWKS holds the static signing credential, every published
// managed key (announced, signing, retired within retention) and every
// validation key.
//
// # Goroutines
//
// [Manager.Start] loads and creates what is needed before the server takes
// traffic; [Manager.Run] is the background loop (timers at the plan's next
// event, store polling or notifications, retry with backoff) and returns
// when its context is done. Nothing else starts a goroutine.
//
// # Serving the JWKS
//
// [Manager.JWKSHandler] is the http.Handler Signet's server serves the
// JWKS with: a Cache-Control max-age bounded by propagationTime/2, a
// strong ETag, 304 and HEAD, and 503 no-store while not ready.
// [Manager.DiscoveryFields] gives the jwks_uri and signing-algorithm
// fields of a discovery document. See docs/library.md.
//
// # Unreadable keys
//
// A stored key that cannot be decrypted or parsed is reported (kid, reason,
// likely cause) and kept. It still counts as existing, so the manager never
// mints a replacement that signs at once; if it was due to sign, the
// manager reports not ready.
package keymanager
