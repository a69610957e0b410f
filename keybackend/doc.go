// Package keybackend generates managed keys inside a PKCS#11 token or AWS
// KMS and signs with them there: the private key never leaves the backend.
//
// The key manager keeps the lifecycle (schedule, cluster lock, planner);
// a [Backend] only creates, opens and destroys key objects. A stored record
// of such a key holds a [Ref] (backend type, object id, public key) in place
// of private material: see [EncodeRef] and key.ProtectionPKCS11 /
// key.ProtectionAWSKMS.
//
// Every signer a backend hands out has a timeout per signature, and its
// errors wrap [ErrUnavailable] so the token endpoint can answer
// temporarily_unavailable. Signers are independent: a slow key never holds
// a lock another key needs.
//
// The PKCS#11 backend needs cgo (it loads the module with dlopen); a
// CGO_ENABLED=0 build compiles and [Open] reports [ErrNoCgo].
package keybackend
