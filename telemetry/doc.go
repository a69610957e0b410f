// Package telemetry traces Signet with OpenTelemetry. It is off unless
// the standard OTEL_* environment variables turn it on ([FromEnv]); then
// the serve command wraps, at assembly time, the HTTP handler
// ([Tracing.Handler]), the grant and attempt stores ([GrantStore],
// [AttemptStore]) and the password hashing budget ([Budget]), and gives
// the server a tracer for its signatures. When tracing is off nothing is
// wrapped: the request path is the untraced one.
//
// No span carries a secret: store spans name the operation only (never an
// id, key or user name), hashing spans the memory, signing spans the key
// id and algorithm. The HTTP spans are otelhttp's server spans, which
// record the method, route, path, status, peer and user agent, never the
// query string, a header other than the user agent, or a form value; the
// path of a request that matched no route is replaced (it is whatever the
// client sent, and may hold a token sent to the wrong place).
package telemetry
