// Package granttest is the conformance suite every grant.Store must pass.
package granttest
