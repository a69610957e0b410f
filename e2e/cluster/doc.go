// Package cluster proves that several Signet instances sharing one
// PostgreSQL store behave as one issuer (issue 4, "How it is proven").
//
// Its tests build cmd/signet once and run real `signet serve` processes
// against a fresh PostgreSQL schema each:
//
//   - TestStartTogether: three instances started at the same moment on an
//     empty schema, twenty times: exactly one key per algorithm, the same
//     JWKS bytes from every instance, and every instance's tokens validate
//     against every other instance's JWKS.
//   - TestForcedRotationPropagates: a rotation forced with `signet keys
//     rotate --now` beside the instances is published by every instance
//     within a second, and signs at once everywhere.
//   - TestStoreOutage: PostgreSQL unreachable (a TCP proxy between the
//     instances and the server is cut) for longer than a propagation time
//     while tokens are issued and verified continuously: no failure, the
//     pending key activates on schedule, /readyz names the outage, and
//     afterwards the cluster converges without duplicate keys.
//   - TestKillDuringKeyCreation: SIGKILL at random moments of an
//     instance's start-up, and in the middle of its key writes, leaves a
//     store that passes [CheckConsistency] and that the next instance
//     completes.
//
// Instances listen on ports the OS chooses (listen: 127.0.0.1:0) and are
// found through their "signet started" log line. The process tests run
// only when SIGNET_TEST_POSTGRES_DSN points at a server (.ci/run sets it)
// and the binary builds, and are skipped with -short. [CheckConsistency]
// is exported for other tests and tools that inspect a store.
package cluster
