//go:build openssl && cgo

// Package openssl signs with OpenSSL's libcrypto (3.x) through cgo. It is
// built only with the openssl build tag (and cgo); the default build of
// Signet is pure Go and never compiles it. Code outside package
// signer/backend does not import it.
//
// # Signers
//
// [New] imports an *rsa.PrivateKey or *ecdsa.PrivateKey into an EVP_PKEY
// once, from PKCS#8 DER (d2i_AutoPrivateKey); the DER copy is cleared. A
// [Signer] signs a digest with EVP_PKEY_sign through a fresh EVP_PKEY_CTX
// per call: RSA with PKCS#1 v1.5 or PSS (salt length = hash length, MGF1
// with the same hash, as JWS requires) over SHA-256, SHA-384 or SHA-512,
// and ECDSA with an ASN.1 DER result. Other options are refused with
// [ErrUnsupportedOpts]. A Signer is immutable and safe for concurrent use:
// the EVP_PKEY is only read, and each call has its own context. A context
// pool was measured and gained nothing worth its native state (about 4 µs
// of a 300 µs RSA-2048 signature, within noise).
//
// # Threads: the Pool
//
// A Signer from [New] signs inside a cgo call on the calling goroutine's
// thread. A cgo call that runs for 300 µs (one RSA-2048 signature) is, to
// the Go scheduler, a blocking system call: sysmon wakes every 20 µs or
// so, takes the processor (P) back, and hands it to another thread, which
// finds nothing to do and parks. With GOMAXPROCS=1 on one core that churn
// costs context switches on the signing core for every signature, and
// concurrent requests each enter their own cgo call, so that several
// signatures time-slice one core (p99 about 25 ms at 8 connections).
//
// A [Pool] avoids both. Its native threads (one per GOMAXPROCS, all
// signals blocked) take jobs from a queue; the calling goroutine waits on
// a channel, so its P stays free for HTTP work and sysmon stays quiet.
// Finished jobs are handed back in batches: a worker writes the pool's
// eventfd only when the queue has run dry or 16 jobs wait, and not again
// until Go has taken them; one goroutine per Pool waits on the eventfd in
// Go's network poller and wakes each caller. On one core under load that
// is one wake-up for several signatures. Measured by the load benchmark
// (go run ./bench --tags openssl; docs/openssl.md): RS256 tokens per
// second rose from 0.83 to 0.89 of `openssl speed rsa2048` on the same
// core, p99 fell from about 25 ms to about 3 ms. A single caller with
// nothing else to do pays two thread switches instead: 12 to 15 µs more
// per signature than [New] (BenchmarkRSA2048).
//
// [Pool.Factory] matches keymanager.SignerFactory and wraps the algorithms
// [Wraps] reports (RS*, PS*, ES512) into Signers of the pool; it leaves
// every other signer alone. [Pool.Close] waits for the signatures in
// flight and stops the threads; the pool's Signers then fail with
// [ErrClosed].
//
// # Native memory
//
// A Signer has no Close. When it becomes unreachable, a cleanup
// (runtime.AddCleanup) frees its EVP_PKEY, which clears the private
// numbers. The key manager drops a key by publishing a snapshot without it;
// token requests still signing with the old snapshot keep the Signer
// reachable, so the key is freed only after the last of them returns. An
// explicit Close could not know about those in-flight signatures. Sign
// keeps its Signer alive across the cgo call or the pool job
// (runtime.KeepAlive), and the native key counts calls in flight so that
// a mistake there would leak the key rather than free it under OpenSSL.
//
// # Errors
//
// Failures wrap [ErrOpenSSL] with what failed and OpenSSL's error strings
// (ERR_get_error, ERR_error_string_n). OpenSSL's error queue is per
// thread: every C entry point (and every pool job) clears it, does its
// work, reads it on failure and empties it before returning, all on one
// thread, so no OS thread needs locking.
//
// # Random numbers
//
// Sign ignores its io.Reader: PSS salts, ECDSA nonces and RSA blinding
// come from OpenSSL's own DRBG.
package openssl
