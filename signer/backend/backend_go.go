//go:build !(openssl && cgo)

package backend

import "github.com/signet-id/signet/key"

// The pure-Go build: every key signs itself.

func open() (*Backend, error) { return &Backend{}, nil }

func wraps(key.Algorithm) bool { return false }

func libraryVersion() string { return "" }
