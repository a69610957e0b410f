// Package config loads Signet's YAML configuration file.
//
// [Load] reads a file, expands ${ENV} references in values, rejects unknown
// keys (naming the key, its line and the closest known key), decodes
// durations written in Go syntax or with days ("90d", "1d12h"), applies
// the defaults, checks every rule and reads the static key files. The
// result is a [Config] whose fields are ready for the key manager and the
// HTTP server: key management options as [key.Options], parsed keys,
// parsed client secrets.
//
// Errors are one line, start with "file:line:" where a line is known, name
// the option and say how to fix it.
//
// Relative paths in the file (storage.dsn for sqlite, keyManagement.keyPath,
// key files) are resolved against the directory of the configuration file.
package config
