//go:build openssl && cgo

package openssl

// Hooks for the tests, which cannot use cgo themselves: they put an error
// on the calling thread's OpenSSL error queue and look at it, to check that
// every call starts from and leaves an empty queue.

/*
#cgo pkg-config: libcrypto
#include <openssl/err.h>

static unsigned long signet_test_push_error(void) {
	ERR_raise_data(ERR_LIB_USER, ERR_R_INTERNAL_ERROR, "signet test: stale error");
	return ERR_peek_last_error();
}

static int signet_test_queue_empty(void) {
	return ERR_peek_error() == 0;
}
*/
import "C"

import "fmt"

// pushStaleError queues an error on the calling OS thread and returns how
// ERR_error_string_n renders its code ("error:XXXXXXXX").
func pushStaleError() string {
	return fmt.Sprintf("error:%08X", uint64(C.signet_test_push_error()))
}

// errorQueueEmpty reports whether the calling OS thread's queue is empty.
func errorQueueEmpty() bool { return C.signet_test_queue_empty() == 1 }
