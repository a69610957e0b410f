// Package backendtest gives tests the real key backends that the
// environment provides (see .ci/backends.sh): a SoftHSM token when
// SIGNET_TEST_PKCS11_MODULE, SIGNET_TEST_PKCS11_TOKEN_LABEL and
// SIGNET_TEST_PKCS11_PIN are set, a KMS-compatible server when
// SIGNET_TEST_KMS_ENDPOINT is set. Tests that need one skip with a message
// naming the variables otherwise.
package backendtest
