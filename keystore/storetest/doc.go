// Package storetest is the conformance suite every [keystore.Store] backend
// must pass, and a helper ([NewRecord]) that builds valid test records for
// other packages' tests.
//
// A backend's test calls [Run] with a [NewStorage] function that prepares
// fresh, empty storage and returns a function opening handles on it:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) func() keystore.Store {
//			dir := t.TempDir()
//			return func() keystore.Store {
//				s, err := filestore.Open(dir)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return s
//			}
//		})
//	}
//
// Each handle stands for one Signet instance: the suite opens several on
// the same storage to check that they see each other's writes and that
// [keystore.Locker] serializes them. Optional capabilities are found by type
// assertion, as the manager finds them; a subtest for a capability the
// store lacks is skipped and says so.
//
// # What the suite requires
//
//   - Records round-trip whole: every field of key.Record, byte slices
//     exactly, times to the microsecond at least (compared with Equal).
//     Sub-microsecond digits may be dropped. Stores that persist return
//     times in UTC; memstore returns them as given.
//   - Refused input changes nothing: key.ErrInvalidRecord for a record that
//     fails Validate, keystore.ErrExists for a taken kid,
//     keystore.ErrNotFound for updating or deleting a missing kid.
//   - A done ctx makes every method fail with an error wrapping ctx.Err(),
//     and changes nothing. (Lock may still take a free lock; a Lock that
//     waits must give up when its ctx ends.)
//   - Of N concurrent creates of one kid exactly one wins.
//   - Locker: a held lock excludes every other holder, on any handle, until
//     unlocked (not until the ctx of Lock ends); "lock, re-read, create if
//     still needed, unlock" run by 16 handles at once creates one key.
//   - Revisioner: the revision changes after every write, on every handle,
//     and is stable without writes.
//   - Watcher: a write through another handle is signalled within a second;
//     the channel is closed after ctx is done.
//   - MetaStore: set, get, overwrite, ErrNotFound for an unknown name.
package storetest
