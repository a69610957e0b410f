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
// [Factory] matches keymanager.SignerFactory and wraps the algorithms
// [Wraps] reports (RS*, PS*, ES512); it leaves every other signer alone.
//
// # Native memory
//
// There is no Close. When a Signer becomes unreachable, a cleanup
// (runtime.AddCleanup) frees its EVP_PKEY, which clears the private
// numbers. The key manager drops a key by publishing a snapshot without it;
// token requests still signing with the old snapshot keep the Signer
// reachable, so the key is freed only after the last of them returns. An
// explicit Close could not know about those in-flight signatures. Sign
// keeps its Signer alive across the cgo call (runtime.KeepAlive), and the
// native key counts calls in flight so that a mistake there would leak
// the key rather than free it under OpenSSL.
//
// # Errors and threads
//
// Failures wrap [ErrOpenSSL] with what failed and OpenSSL's error strings
// (ERR_get_error, ERR_error_string_n). OpenSSL's error queue is per
// thread: every C entry point clears it, does its work, reads it on
// failure and empties it before returning, all within one cgo call and so
// on one thread, so no OS thread needs locking.
//
// # Random numbers
//
// Sign ignores its io.Reader: PSS salts, ECDSA nonces and RSA blinding
// come from OpenSSL's own DRBG.
package openssl
