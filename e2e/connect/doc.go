// Package connect runs the examples of docs/connect against a live Signet:
// each test builds and starts `signet serve` with a temporary
// configuration whose clients come from the guide's own YAML block (with
// the test's ports), starts the example app, and drives its sign-in over
// plain HTTP the way a browser would (a cookie jar, redirects followed,
// the login form posted), then checks what the app reports, refresh and
// logout.
//
// The examples and what they need:
//
//   - examples/connect/goweb and goapi: built with the go tool;
//   - examples/connect/node: node and its node_modules
//     (npm ci in that directory; .ci/connect.sh does it);
//   - examples/connect/python: a python3 with authlib and requests
//     (Debian's python3-authlib and python3-requests;
//     SIGNET_CONNECT_PYTHON names the interpreter, default /usr/bin/python3);
//   - oauth2-proxy: SIGNET_CONNECT_OAUTH2_PROXY names the binary, or it is
//     looked up on PATH.
//
// A test whose tool is missing is skipped with the reason and the fix;
// .ci/connect.sh installs them all, so CI skips none.
package connect
