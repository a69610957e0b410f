//go:build openssl && cgo

package openssl

/*
#cgo pkg-config: libcrypto
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
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


// ---- The pool: native threads that sign for Go (see pool.go). ----

enum { SIGNET_NOTIFY_BATCH = 16 };

// signet_job is one signature: submitted by Go, signed by a worker, taken
// back by Go. sig points just past the struct, in the same allocation.
typedef struct signet_job {
	struct signet_job *next;
	EVP_PKEY *pkey;
	int kind, hash;
	unsigned char dgst[EVP_MAX_MD_SIZE];
	size_t dlen, cap;
	uintptr_t handle; // the waiting Go call's cgo.Handle
	signet_result res;
	unsigned char *sig;
} signet_job;

// signet_pool: a queue of submitted jobs, worker threads, and a list of
// signed jobs that Go takes after the eventfd says so. The eventfd is
// written once per batch: when the queue has run dry or SIGNET_NOTIFY_BATCH
// jobs wait, and not again until Go has taken them (notified).
typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	signet_job *qhead, *qtail;
	signet_job *dhead, *dtail;
	int ndone, notified, stop, nthreads, efd;
	pthread_t *threads;
} signet_pool;

typedef struct {
	signet_pool *pool;
	char *err;
} signet_pool_result;

static void signet_notify(signet_pool *p) {
	uint64_t one = 1;
	ssize_t n = write(p->efd, &one, sizeof one); // only fails on counter overflow
	(void)n;
}

static void *signet_worker(void *arg) {
	signet_pool *p = arg;
	signet_job *j;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->qhead == NULL && !p->stop) {
			pthread_cond_wait(&p->cv, &p->mu);
		}
		if (p->qhead == NULL) {
			break; // stopping, and the queue is drained
		}
		j = p->qhead;
		p->qhead = j->next;
		if (p->qhead == NULL) {
			p->qtail = NULL;
		}
		pthread_mutex_unlock(&p->mu);

		j->res = signet_sign(j->pkey, j->kind, j->hash, j->dgst, j->dlen, j->sig, j->cap);
		j->next = NULL;

		pthread_mutex_lock(&p->mu);
		if (p->dtail != NULL) {
			p->dtail->next = j;
		} else {
			p->dhead = j;
		}
		p->dtail = j;
		p->ndone++;
		if (!p->notified && (p->qhead == NULL || p->ndone >= SIGNET_NOTIFY_BATCH)) {
			p->notified = 1;
			signet_notify(p);
		}
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static char *signet_errno(const char *what, int e) {
	char *out = malloc(256);
	if (out != NULL) {
		snprintf(out, 256, "%s: %s", what, strerror(e));
	}
	return out;
}

// signet_pool_join stops the workers once the queue is drained and waits
// for the first n of them.
static void signet_pool_join(signet_pool *p, int n) {
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < n; i++) {
		pthread_join(p->threads[i], NULL);
	}
}

static void signet_pool_free(signet_pool *p) {
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p);
}

// signet_pool_new starts n workers. They block every signal, so that the
// Go runtime's threads receive the process's signals.
static signet_pool_result signet_pool_new(int n) {
	signet_pool_result r = {NULL, NULL};
	sigset_t all, old;
	int e, started = 0;
	signet_pool *p = calloc(1, sizeof *p);

	if (p == NULL || (p->threads = calloc((size_t)n, sizeof(pthread_t))) == NULL) {
		free(p);
		r.err = signet_errno("calloc", ENOMEM);
		return r;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->nthreads = n;
	p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->efd < 0) {
		r.err = signet_errno("eventfd", errno);
		signet_pool_free(p);
		return r;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; started < n; started++) {
		if ((e = pthread_create(&p->threads[started], NULL, signet_worker, p)) != 0) {
			r.err = signet_errno("pthread_create", e);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r.err != NULL) {
		signet_pool_join(p, started);
		close(p->efd);
		signet_pool_free(p);
		return r;
	}
	r.pool = p;
	return r;
}

// signet_pool_submit queues a signature of dgst with pkey. NULL when out of
// memory.
static signet_job *signet_pool_submit(signet_pool *p, EVP_PKEY *pkey, int kind, int hash,
		const unsigned char *dgst, size_t dlen, size_t cap, uintptr_t handle) {
	signet_job *j;

	if (dlen > EVP_MAX_MD_SIZE || (j = malloc(sizeof *j + cap)) == NULL) {
		return NULL;
	}
	memset(j, 0, sizeof *j);
	j->pkey = pkey;
	j->kind = kind;
	j->hash = hash;
	memcpy(j->dgst, dgst, dlen);
	j->dlen = dlen;
	j->cap = cap;
	j->handle = handle;
	j->sig = (unsigned char *)(j + 1);
	pthread_mutex_lock(&p->mu);
	if (p->qtail != NULL) {
		p->qtail->next = j;
	} else {
		p->qhead = j;
	}
	p->qtail = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return j;
}

// signet_pool_take returns the signed jobs (a list through next) and
// re-arms the notification.
static signet_job *signet_pool_take(signet_pool *p) {
	signet_job *j;

	pthread_mutex_lock(&p->mu);
	j = p->dhead;
	p->dhead = p->dtail = NULL;
	p->ndone = 0;
	p->notified = 0;
	pthread_mutex_unlock(&p->mu);
	return j;
}

// signet_pool_stop waits for the queued jobs and the workers, then writes
// the eventfd once more so that Go takes the last jobs.
static void signet_pool_stop(signet_pool *p) {
	signet_pool_join(p, p->nthreads);
	signet_notify(p);
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
	"os"
	"runtime/cgo"
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

// nativePool is the C side of a [Pool]: worker threads, the job queue and
// the list of signed jobs.
type nativePool struct{ p *C.signet_pool }

// newNativePool starts n worker threads. events is the eventfd that says
// signed jobs are waiting; the caller owns (closes) it.
func newNativePool(n int) (np *nativePool, events *os.File, err error) {
	r := C.signet_pool_new(C.int(n))
	if r.pool == nil {
		if r.err == nil {
			return nil, nil, fmt.Errorf("%w: start signing threads: out of memory", ErrOpenSSL)
		}
		msg := C.GoString(r.err)
		C.free(unsafe.Pointer(r.err))
		return nil, nil, fmt.Errorf("openssl: start signing threads: %s", msg)
	}
	return &nativePool{p: r.pool}, os.NewFile(uintptr(r.pool.efd), "signet-openssl-events"), nil
}

// job is one submitted signature.
type job struct{ j *C.signet_job }

// submit queues a signature of digest with k for a worker; handle comes
// back with the job from take. The caller keeps k's owner reachable and
// k.inflight raised until it has the job back.
func (np *nativePool) submit(k *pkey, kd kind, h hashID, digest []byte, handle cgo.Handle) (job, error) {
	if len(digest) == 0 {
		return job{}, fmt.Errorf("%w: empty digest", ErrOpenSSL)
	}
	j := C.signet_pool_submit(np.p, k.p, C.int(kd), C.int(h),
		(*C.uchar)(unsafe.Pointer(&digest[0])), C.size_t(len(digest)), C.size_t(k.size), C.uintptr_t(handle))
	if j == nil {
		return job{}, fmt.Errorf("%w: queue a signature: out of memory or a digest over %d bytes", ErrOpenSSL, C.EVP_MAX_MD_SIZE)
	}
	return job{j}, nil
}

// take returns the first of the signed jobs; follow next for the rest.
func (np *nativePool) take() job { return job{C.signet_pool_take(np.p)} }

// stop waits for every queued job and the workers to finish, then signals
// the eventfd a last time so that the taker collects the last jobs.
func (np *nativePool) stop() { C.signet_pool_stop(np.p) }

// free releases the pool's memory, after stop and the last take. It does
// not close the eventfd.
func (np *nativePool) free() {
	C.signet_pool_free(np.p)
	np.p = nil
}

func (j job) ok() bool           { return j.j != nil }
func (j job) next() job          { return job{j.j.next} }
func (j job) handle() cgo.Handle { return cgo.Handle(j.j.handle) }

// finish copies the job's signature or error into Go memory and frees it.
func (j job) finish() ([]byte, error) {
	var sig []byte
	if j.j.res.ok != 0 {
		sig = C.GoBytes(unsafe.Pointer(j.j.sig), C.int(j.j.res.len))
	}
	err := result(j.j.res)
	C.free(unsafe.Pointer(j.j))
	return sig, err
}
