// Package advisor turns key timings into operator guidance. It is pure:
// every function takes the time and the numbers and returns advice.
//
// [Advise] names the phase of the seed's migration from a static key to
// managed keys (static only, 1 announce, 2 sign with managed keys, 3 done)
// and says when the next phase is safe:
//
//   - 1 → 2: once the managed keys have been published for the longest
//     relying-party JWKS cache plus the JWKS max-age (every client has
//     them before they sign).
//   - 2 → 3: once the longest token lifetime plus clock skew has passed
//     since the static key last signed (no live token needs it).
//
// [CheckTiming] checks the inequalities that keep relying parties working
// across rotations and names each broken one with its numbers and a
// suggested value.
package advisor
