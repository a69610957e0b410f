// Package key is Signet's key domain: signing algorithms, the stored key
// record with its fixed schedule, the key management options, and the
// lifecycle planner.
//
// Everything here is pure: no I/O, no clock, no randomness. The planner
// ([Compute]) takes the time, the stored records and the options and returns
// what the key manager must do. Table tests drive it with fixed timestamps.
//
// # Lifecycle
//
// Every managed key stores its own schedule when it is created:
//
//	Created      announced in the JWKS
//	SignsFrom    may sign from here
//	RetiresAt    stops signing
//	DeleteAfter  leaves the JWKS (RetiresAt+RetentionDuration)
//
// The first key of an algorithm signs at once and retires after
// RotationInterval, as in the reference. A successor is created from
// PropagationTime (plus a small lead, see [Lead]) before the youngest key
// retires, signs from that retirement (never sooner than PropagationTime
// after it was announced) and signs for RotationInterval-PropagationTime,
// so with the defaults a key is announced around day 76, signs from day 90
// and its predecessor stays published until day 104. Changing the options
// later affects new keys only.
package key
