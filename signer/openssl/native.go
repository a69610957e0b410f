//go:build openssl && cgo

package openssl

/*
#cgo pkg-config: libcrypto
#include <stdio.h>
#include <stdlib.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/rsa.h>

#if OPENSSL_VERSION_MAJOR < 3
#error "signer/openssl needs OpenSSL 3 (libssl-dev 3.x)"
#endif

enum { SIGNET_PKCS1 = 1, SIGNET_PSS = 2, SIGNET_ECDSA = 3 };
enum { SIGNET_SHA256 = 1, SIGNET_SHA384 = 2, SIGNET_SHA512 = 3 };

// signet_result is what every call returns: ok, a length or a key, and on
// failure a malloc'd message (what failed, then OpenSSL's error queue) that
// the caller frees. Returned by value, so Go passes no out-pointers (which
// would escape to the heap). Each call reads and empties the error queue
// itself, on the thread it runs on, so Go need not lock the OS thread.
typedef struct {
	int ok;
	size_t len;
	char *err;
	EVP_PKEY *pkey;
} signet_result;

// signet_errors returns "what: e1; e2" from the calling thread's error
// queue, which it empties. NULL when malloc fails.
static char *signet_errors(const char *what) {
	const size_t cap = 1024;
	const char *sep = ": ";
	char one[256];
	unsigned long e;
	size_t n;
	char *out = malloc(cap);

	if (out == NULL) {
		ERR_clear_error();
		return NULL;
	}
	n = (size_t)snprintf(out, cap, "%s", what);
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof one);
		if (n < cap) {
			n += (size_t)snprintf(out + n, cap - n, "%s%s", sep, one);
		}
		sep = "; ";
	}
	return out;
}

static const EVP_MD *signet_md(int hash) {
	switch (hash) {
	case SIGNET_SHA256: return EVP_sha256();
	case SIGNET_SHA384: return EVP_sha384();
	case SIGNET_SHA512: return EVP_sha512();
	}
	return NULL;
}

// signet_load parses a DER private key (PKCS#8, or the key type's own
// encoding) into a new EVP_PKEY whose base type must be want.
static signet_result signet_load(const unsigned char *der, long len, int want) {
	signet_result r = {0, 0, NULL, NULL};
	const unsigned char *p = der;
	const char *what = "d2i_AutoPrivateKey";
	EVP_PKEY *pkey;

	ERR_clear_error();
	pkey = d2i_AutoPrivateKey(NULL, &p, len);
	if (pkey != NULL) {
		// The decoders may queue errors from formats they tried first.
		ERR_clear_error();
		if (EVP_PKEY_get_base_id(pkey) != want) {
			what = "unexpected key type";
		} else if (p != der + len) {
			what = "trailing data after the key";
		} else {
			r.ok = 1;
			r.pkey = pkey;
			pkey = NULL;
		}
	}
	if (!r.ok) {
		r.err = signet_errors(what);
	}
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return r;
}

// signet_setup makes ctx (after *_init) use kind's padding and hash.
static const char *signet_setup(EVP_PKEY_CTX *ctx, int kind, const EVP_MD *md) {
	switch (kind) {
	case SIGNET_PKCS1:
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
			return "EVP_PKEY_CTX_set_rsa_padding";
		}
		break;
	case SIGNET_PSS:
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) <= 0) {
			return "EVP_PKEY_CTX_set_rsa_padding";
		}
		break;
	case SIGNET_ECDSA:
		break;
	default:
		return "unknown signature kind";
	}
	if (EVP_PKEY_CTX_set_signature_md(ctx, md) <= 0) {
		return "EVP_PKEY_CTX_set_signature_md";
	}
	if (kind == SIGNET_PSS) {
		if (EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0) {
			return "EVP_PKEY_CTX_set_rsa_mgf1_md";
		}
		if (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) <= 0) {
			return "EVP_PKEY_CTX_set_rsa_pss_saltlen";
		}
	}
	return NULL;
}

// signet_sign signs a digest with pkey through a fresh EVP_PKEY_CTX. sig has
// room for cap bytes (EVP_PKEY_get_size).
static signet_result signet_sign(EVP_PKEY *pkey, int kind, int hash,
		const unsigned char *dgst, size_t dlen, unsigned char *sig, size_t cap) {
	signet_result r = {0, 0, NULL, NULL};
	const EVP_MD *md = signet_md(hash);
	const char *what = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t siglen = cap;

	ERR_clear_error();
	if (md == NULL) {
		what = "unknown hash";
	} else if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		what = "EVP_PKEY_CTX_new_from_pkey";
	} else if (EVP_PKEY_sign_init(ctx) <= 0) {
		what = "EVP_PKEY_sign_init";
	} else if ((what = signet_setup(ctx, kind, md)) != NULL) {
		// what is set
	} else if (EVP_PKEY_sign(ctx, sig, &siglen, dgst, dlen) <= 0) {
		what = "EVP_PKEY_sign";
	} else {
		r.ok = 1;
		r.len = siglen;
	}
	if (!r.ok) {
		r.err = signet_errors(what);
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return r;
}

// signet_verify checks sig over a digest with pkey's public half: ok for a
// good signature, err for a bad one or any failure.
static signet_result signet_verify(EVP_PKEY *pkey, int kind, int hash,
		const unsigned char *dgst, size_t dlen, const unsigned char *sig, size_t siglen) {
	signet_result r = {0, 0, NULL, NULL};
	const EVP_MD *md = signet_md(hash);
	const char *what = NULL;
	EVP_PKEY_CTX *ctx = NULL;

	ERR_clear_error();
	if (md == NULL) {
		what = "unknown hash";
	} else if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL) {
		what = "EVP_PKEY_CTX_new_from_pkey";
	} else if (EVP_PKEY_verify_init(ctx) <= 0) {
		what = "EVP_PKEY_verify_init";
	} else if ((what = signet_setup(ctx, kind, md)) != NULL) {
		// what is set
	} else if (EVP_PKEY_verify(ctx, sig, siglen, dgst, dlen) != 1) {
		what = "EVP_PKEY_verify";
	} else {
		r.ok = 1;
	}
	if (!r.ok) {
		r.err = signet_errors(what);
	}
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return r;
}


static size_t signet_size(EVP_PKEY *pkey) {
	int n = EVP_PKEY_get_size(pkey);
	return n > 0 ? (size_t)n : 0;
}

static const char *signet_version(void) {
	return OpenSSL_version(OPENSSL_VERSION);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"
)

// kind is the signature scheme of one call.
type kind C.int

const (
	kindPKCS1 kind = C.SIGNET_PKCS1
	kindPSS   kind = C.SIGNET_PSS
	kindECDSA kind = C.SIGNET_ECDSA
)

// hashID names a digest to the C side.
type hashID C.int

const (
	hashSHA256 hashID = C.SIGNET_SHA256
	hashSHA384 hashID = C.SIGNET_SHA384
	hashSHA512 hashID = C.SIGNET_SHA512
)

// pkey owns one EVP_PKEY. It is not copied; free is called once, by the
// cleanup attached to the Signer that holds it.
type pkey struct {
	p    *C.EVP_PKEY
	size int // EVP_PKEY_get_size: the largest signature
	// inflight counts calls into OpenSSL with p. The owner's
	// runtime.KeepAlive makes it zero whenever free runs; free checks.
	inflight atomic.Int32
	// onFree, when set (tests), is told inflight when free runs.
	onFree func(inflight int32)
}

// result turns a C result into an error, freeing its message.
func result(r C.signet_result) error {
	if r.ok != 0 {
		return nil
	}
	if r.err == nil {
		return fmt.Errorf("%w: out of memory formatting the error", ErrOpenSSL)
	}
	msg := C.GoString(r.err)
	C.free(unsafe.Pointer(r.err))
	return fmt.Errorf("%w: %s", ErrOpenSSL, msg)
}

// load imports a DER private key of the given EVP_PKEY base type.
func load(der []byte, t keyType) (*pkey, error) {
	if len(der) == 0 {
		return nil, errors.New("openssl: empty private key")
	}
	r := C.signet_load((*C.uchar)(unsafe.Pointer(&der[0])), C.long(len(der)), C.int(t))
	if err := result(r); err != nil {
		return nil, err
	}
	k := &pkey{p: r.pkey, size: int(C.signet_size(r.pkey))}
	if k.size == 0 {
		k.free()
		return nil, fmt.Errorf("%w: EVP_PKEY_get_size failed", ErrOpenSSL)
	}
	return k, nil
}

// free releases the EVP_PKEY; OpenSSL clears the private numbers. Should a
// call still be using the key (only a missing runtime.KeepAlive could cause
// that) it leaks the key rather than free it under OpenSSL.
func (k *pkey) free() {
	n := k.inflight.Load()
	if k.onFree != nil {
		k.onFree(n)
	}
	if n != 0 {
		return
	}
	C.EVP_PKEY_free(k.p)
	k.p = nil
}

// sign signs digest. The caller keeps k reachable until sign returns.
func (k *pkey) sign(kd kind, h hashID, digest []byte) ([]byte, error) {
	if len(digest) == 0 {
		return nil, fmt.Errorf("%w: empty digest", ErrOpenSSL)
	}
	sig := make([]byte, k.size)
	k.inflight.Add(1)
	defer k.inflight.Add(-1)
	r := C.signet_sign(k.p, C.int(kd), C.int(h),
		(*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
		(*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)))
	if err := result(r); err != nil {
		return nil, err
	}
	return sig[:r.len], nil
}

// verify checks sig over digest with OpenSSL (tests use it for the
// Go-signs, OpenSSL-verifies direction).
func (k *pkey) verify(kd kind, h hashID, digest, sig []byte) error {
	if len(sig) == 0 || len(digest) == 0 {
		return fmt.Errorf("%w: empty signature or digest", ErrOpenSSL)
	}
	k.inflight.Add(1)
	defer k.inflight.Add(-1)
	r := C.signet_verify(k.p, C.int(kd), C.int(h),
		(*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)),
		(*C.uchar)(unsafe.Pointer(&sig[0])), C.size_t(len(sig)))
	return result(r)
}

func version() string { return C.GoString(C.signet_version()) }

// keyType is an EVP_PKEY base type.
type keyType C.int

const (
	keyRSA keyType = C.EVP_PKEY_RSA
	keyEC  keyType = C.EVP_PKEY_EC
)
