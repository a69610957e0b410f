package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-id/signet/clientauth"
	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keystore/filestore"
	"github.com/signet-id/signet/seal"
)

// at returns an error located at the line of path (or of its closest
// parent written in the file), naming path.
func (p *parser) at(path, format string, args ...any) error {
	line := 0
	for q := path; q != ""; {
		if l, ok := p.lines.byPath[q]; ok {
			line = l
			break
		}
		i := strings.LastIndexAny(q, ".[")
		if i < 0 {
			break
		}
		q = q[:i]
	}
	return p.errorf(line, "%s: "+format, append([]any{path}, args...)...)
}

// path resolves a relative path against the configuration's directory.
func (p *parser) path(s string) string {
	if s == "" || filepath.IsAbs(s) || p.dir == "" {
		return s
	}
	return filepath.Join(p.dir, s)
}

// sqliteDSN resolves the file of a SQLite DSN, a path or a "file:" URI
// ("file:data/s.db?_pragma=..."), relative to the configuration's
// directory, as every other relative path. An in-memory database and
// "file:" URIs with an authority ("file:///...") are left alone.
func (p *parser) sqliteDSN(dsn string) string {
	rest, uri := strings.CutPrefix(dsn, "file:")
	if !uri {
		return p.path(dsn)
	}
	file, query, hasQuery := strings.Cut(rest, "?")
	if file == "" || strings.HasPrefix(file, "/") || strings.HasPrefix(file, ":memory:") {
		return dsn
	}
	dsn = "file:" + p.path(file)
	if hasQuery {
		dsn += "?" + query
	}
	return dsn
}

func (p *parser) resolve(d *fileDoc) (*Config, error) {
	c := &Config{Source: p.src}
	if err := p.resolveServer(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveKeyManagement(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveKeyBackend(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveStorage(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveStaticKeys(d, c); err != nil {
		return nil, err
	}
	if !c.KeyManagement.Enabled && c.SigningCredential == nil {
		return nil, p.at("keyManagement.enabled", "managed keys are disabled and no signingCredential is configured, so nothing could sign tokens; enable key management or configure a signingCredential")
	}
	if err := p.resolveAPIResources(d, c); err != nil {
		return nil, err
	}
	c.RequirePushedAuthorizationRequests = d.RequirePushedAuthorizationRequests
	if err := p.resolveAdminAPI(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveClients(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveConnectors(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveAllowedConnectors(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveDynamicRegistration(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveUsers(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveLimits(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveDPoP(d, c); err != nil {
		return nil, err
	}
	if err := p.resolvePasswords(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveUI(d, c); err != nil {
		return nil, err
	}
	if err := p.resolveMFA(d, c); err != nil {
		return nil, err
	}
	c.warnHashingMemory()
	return c, nil
}

func (p *parser) resolveServer(d *fileDoc, c *Config) error {
	if d.Issuer == "" {
		return p.errorf(0, "issuer is required: the URL clients reach Signet at, e.g. issuer: https://login.example.com")
	}
	u, err := url.Parse(d.Issuer)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "":
		return p.at("issuer", "%q is not an absolute http or https URL, e.g. https://login.example.com", d.Issuer)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return p.at("issuer", "%q must not have a query, fragment or user info", d.Issuer)
	case strings.HasSuffix(d.Issuer, "/"):
		return p.at("issuer", "%q must not end with /; write %q", d.Issuer, strings.TrimRight(d.Issuer, "/"))
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("issuer %s uses plain http on a non-loopback host: client secrets and tokens travel unencrypted; use https (TLS in front of Signet)", d.Issuer))
	}
	c.Issuer = d.Issuer
	c.Listen = d.Listen
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if err := CheckListen(c.Listen); err != nil {
		return p.at("listen", "%v", err)
	}
	for i, s := range d.TrustedProxies {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return p.at(fmt.Sprintf("trustedProxies[%d]", i), "%q is not an IP address or CIDR prefix, e.g. 10.0.0.0/8 or 192.0.2.10", s)
			}
			pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if pfx.Masked() != pfx {
			return p.at(fmt.Sprintf("trustedProxies[%d]", i), "%q has host bits set; write %q", s, pfx.Masked().String())
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx)
	}
	return p.adminListen(d, c)
}

// adminListen checks adminListen: a host:port other than listen.
func (p *parser) adminListen(d *fileDoc, c *Config) error {
	if d.AdminListen == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(d.AdminListen)
	if err != nil {
		return p.at("adminListen", "%q is not a host:port address, e.g. 127.0.0.1:9090 or :9090", d.AdminListen)
	}
	if err := CheckListen(d.AdminListen); err != nil {
		return p.at("adminListen", "%v", err)
	}
	if d.AdminListen == c.Listen && port != "0" && port != "" { // port 0: each gets a free port
		return p.at("adminListen", "%q is also listen; the admin listener needs its own address, e.g. 127.0.0.1:9090", d.AdminListen)
	}
	c.AdminListen = d.AdminListen
	return nil
}

// CheckListen reports whether addr is an address serve can listen on:
// host:port with a port from 0 to 65535 (0 picks a free port) or a
// service name. The error names the problem and the fix; serve and
// `signet config check` call it for listen: and --listen alike.
func CheckListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not a host:port address, e.g. 127.0.0.1:8080 or :8080", addr)
	}
	if port == "" {
		return nil // like port 0: a free port
	}
	n, err := strconv.ParseUint(port, 10, 64)
	if err != nil {
		if _, lerr := net.LookupPort("tcp", port); lerr != nil {
			return fmt.Errorf("%q: port %q is neither a number nor a known service name; use a port from 1 to 65535, e.g. :8080", addr, port)
		}
		return nil
	}
	if n > 65535 {
		return fmt.Errorf("%q: port %s is out of range; a TCP port is 1 to 65535 (0 picks a free one), e.g. :8080", addr, port)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *parser) resolveKeyManagement(d *fileDoc, c *Config) error {
	o := key.DefaultOptions()
	km := d.KeyManagement
	if km == nil {
		km = &keyManagementDoc{}
	}
	if km.Enabled != nil {
		o.Enabled = *km.Enabled
	}
	for _, x := range []struct {
		name string
		v    *Duration
		dst  *time.Duration
	}{
		{"rotationInterval", km.RotationInterval, &o.RotationInterval},
		{"propagationTime", km.PropagationTime, &o.PropagationTime},
		{"retentionDuration", km.RetentionDuration, &o.RetentionDuration},
		{"keyCacheDuration", km.KeyCacheDuration, &o.KeyCacheDuration},
	} {
		if x.v == nil {
			continue
		}
		if *x.v <= 0 {
			return p.at("keyManagement."+x.name, "must be a positive duration like 14d or 12h (omit it for the default)")
		}
		*x.dst = time.Duration(*x.v)
	}
	if km.DeleteRetiredKeys != nil {
		o.DeleteRetiredKeys = *km.DeleteRetiredKeys
	}
	if km.RSAKeySize != nil {
		o.RSAKeySize = *km.RSAKeySize
	}
	if km.SigningAlgorithms != nil {
		o.SigningAlgorithms = nil
		for i, a := range km.SigningAlgorithms {
			path := fmt.Sprintf("keyManagement.signingAlgorithms[%d]", i)
			if a.Name == "" {
				return p.at(path, "name is required, e.g. { name: ES256 }")
			}
			alg, err := key.ParseAlgorithm(a.Name)
			if err != nil {
				return p.at(path, "%v", err)
			}
			o.SigningAlgorithms = append(o.SigningAlgorithms, key.AlgorithmOptions{Algorithm: alg, X509: a.X509})
		}
	}
	// keyManagement.keyPath is the file store's setting (Storage.KeyPath),
	// resolved for every driver as before: the generated protection
	// secret of the file store sits beside it.
	keyPath := filestore.DefaultPath
	if km.KeyPath != nil {
		if *km.KeyPath == "" {
			return p.at("keyManagement.keyPath", "is empty; give a directory, or omit it for %s", filestore.DefaultPath)
		}
		keyPath = *km.KeyPath
	}
	c.Storage.KeyPath = p.path(keyPath)
	c.Protection.Enabled = true
	if pr := km.Protection; pr != nil {
		if pr.Enabled != nil {
			c.Protection.Enabled = *pr.Enabled
		}
		for i, s := range pr.Secrets {
			if s == "" {
				return p.at(fmt.Sprintf("keyManagement.protection.secrets[%d]", i), "is empty (if it names an environment variable, that variable is set to an empty value); give a random secret of at least %d bytes, e.g. from %s", seal.MinSecretLength, SecretRecipe)
			}
			if len(s) < seal.MinSecretLength {
				return p.at(fmt.Sprintf("keyManagement.protection.secrets[%d]", i), "is %d bytes, at least %d are required; use 32 random bytes, e.g. from %s", len(s), seal.MinSecretLength, SecretRecipe)
			}
			c.Protection.Secrets = append(c.Protection.Secrets, []byte(s))
		}
	}
	o.ProtectKeys = c.Protection.Enabled
	if err := o.Validate(); err != nil {
		return p.at("keyManagement", "%s", strings.TrimPrefix(err.Error(), key.ErrInvalidOptions.Error()+": "))
	}
	c.KeyManagement = o

	// The bound is key.Options.EffectiveJWKSMaxAge's, the one the key
	// manager's JWKS handler applies.
	c.JWKSMaxAge, _ = o.EffectiveJWKSMaxAge(0)
	if km.JWKSMaxAge != nil {
		v := time.Duration(*km.JWKSMaxAge)
		if v != 0 { // an explicit 0 serves max-age=0
			if _, err := o.EffectiveJWKSMaxAge(v); err != nil {
				return p.at("keyManagement.jwksMaxAge", "%s", strings.TrimPrefix(err.Error(), key.ErrInvalidOptions.Error()+": jwksMaxAge "))
			}
		}
		c.JWKSMaxAge = v
	}
	c.RelyingPartyCache, c.ClockSkew = DefaultRelyingPartyCache, DefaultClockSkew
	if km.RelyingPartyCache != nil {
		c.RelyingPartyCache = time.Duration(*km.RelyingPartyCache)
	}
	if km.ClockSkew != nil {
		c.ClockSkew = time.Duration(*km.ClockSkew)
	}
	return nil
}

func (p *parser) resolveStorage(d *fileDoc, c *Config) error {
	st := d.Storage
	if st == nil {
		st = &storageDoc{Driver: string(DriverSQLite)}
	}
	switch Driver(st.Driver) {
	case DriverSQLite:
		dsn := st.DSN
		if dsn == "" {
			dsn = DefaultSQLiteDSN
		}
		dsn = p.sqliteDSN(dsn)
		c.Storage = Storage{Driver: DriverSQLite, DSN: dsn, KeyPath: c.Storage.KeyPath, DurableReplayRecords: st.DurableReplayRecords != nil && *st.DurableReplayRecords}
	case DriverPostgres:
		if st.DSN == "" {
			return p.at("storage.dsn", "is required with the postgres driver, e.g. postgres://signet@db.example.com/signet (use ${ENV} for the password)")
		}
		c.Storage = Storage{Driver: DriverPostgres, DSN: st.DSN, KeyPath: c.Storage.KeyPath, DurableReplayRecords: st.DurableReplayRecords != nil && *st.DurableReplayRecords}
	case DriverMemory, DriverFile:
		if st.DSN != "" {
			hint := "memory keeps keys in the process only"
			if Driver(st.Driver) == DriverFile {
				hint = "the file store keeps keys in keyManagement.keyPath"
			}
			return p.at("storage.dsn", "is not used by the %s driver (%s); remove it", st.Driver, hint)
		}
		if st.DurableReplayRecords != nil {
			return p.at("storage.durableReplayRecords", "is a setting of the sqlite and postgres drivers (the %s driver writes nothing to a database); remove it", st.Driver)
		}
		c.Storage = Storage{Driver: Driver(st.Driver), KeyPath: c.Storage.KeyPath}
	case "":
		return p.at("storage.driver", "is required: sqlite, postgres, memory or file")
	default:
		return p.at("storage.driver", "unknown driver %q: use sqlite, postgres, memory or file", st.Driver)
	}

	if !c.Protection.Enabled {
		c.Protection.Secrets = nil
		return nil
	}
	if len(c.Protection.Secrets) > 0 {
		return nil
	}
	switch c.Storage.Driver {
	case DriverPostgres:
		if c.KeyBackend.External() {
			return nil // the backend holds the private keys: nothing to seal
		}
		return p.at("keyManagement.protection.secrets", "is required with the postgres store: every instance sharing the database must seal and open keys with the same secret; set secrets: [\"${SIGNET_KEY_SECRET}\"] with a random value from "+SecretRecipe+" (or set protection.enabled: false)")
	case DriverSQLite:
		c.Protection.SecretFile = sqlitePath(c.Storage.DSN) + ".secret"
	case DriverFile:
		c.Protection.SecretFile = filepath.Clean(c.Storage.KeyPath) + ".secret"
	}
	return nil
}

// sqlitePath returns the database file of a SQLite DSN ("file:x.db?..." or
// a plain path).
func sqlitePath(dsn string) string {
	s := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return s
}

func (p *parser) resolveStaticKeys(d *fileDoc, c *Config) error {
	kids := make(map[string]string)
	thumbs := make(map[string]string)
	add := func(path string, k *StaticKey) error {
		tp, err := jwk.Thumbprint(k.Public)
		if err != nil {
			return p.at(path, "%v", err)
		}
		if other, ok := thumbs[tp]; ok {
			return p.at(path, "is the same key as %s; list each key once (during a migration the old key is either the signingCredential or a validation key, not both)", other)
		}
		thumbs[tp] = path
		kid := k.KID
		if kid == "" {
			kid = tp
		}
		if other, ok := kids[kid]; ok {
			return p.at(path, "kid %q is also used by %s; kids must be unique", kid, other)
		}
		kids[kid] = path
		return nil
	}
	if sc := d.SigningCredential; sc != nil {
		k, err := p.loadKey("signingCredential", sc, true, c)
		if err != nil {
			return err
		}
		if err := add("signingCredential", k); err != nil {
			return err
		}
		c.SigningCredential = k
	}
	for i := range d.ValidationKeys {
		path := fmt.Sprintf("validationKeys[%d]", i)
		k, err := p.loadKey(path, &d.ValidationKeys[i], false, c)
		if err != nil {
			return err
		}
		if err := add(path, k); err != nil {
			return err
		}
		c.ValidationKeys = append(c.ValidationKeys, *k)
	}
	return nil
}

func (p *parser) loadKey(path string, d *keyFileDoc, signing bool, c *Config) (*StaticKey, error) {
	if d.File == "" {
		return nil, p.at(path, "file is required: a PEM or JWK file holding the key")
	}
	if d.Algorithm == "" {
		return nil, p.at(path, "algorithm is required, e.g. algorithm: RS256")
	}
	alg, err := key.ParseAlgorithm(d.Algorithm)
	if err != nil {
		return nil, p.at(path+".algorithm", "%v", err)
	}
	file := p.path(d.File)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, p.at(path+".file", "cannot read the key: %v", err)
	}
	k := &StaticKey{File: file, KID: d.KID, Algorithm: alg}
	if signing {
		k.Signer, k.Certificates, err = jwk.ParsePrivateKey(data)
		if err != nil {
			if errors.Is(err, jwk.ErrNoKey) {
				return nil, p.at(path+".file", "%s holds no private key: %v (a signing credential needs the private key; a public key belongs under validationKeys)", d.File, err)
			}
			return nil, p.at(path+".file", "%s: %v", d.File, err)
		}
		k.Public = k.Signer.Public()
	} else {
		if _, _, perr := jwk.ParsePrivateKey(data); perr == nil {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s (%s) holds a private key; only its public half is published, so a public key file is enough there", path, d.File))
		}
		k.Public, k.Certificates, err = jwk.ParsePublicKey(data)
		if err != nil {
			return nil, p.at(path+".file", "%s: %v", d.File, err)
		}
	}
	if err := jwk.CheckAlgorithm(alg, k.Public); err != nil {
		return nil, p.at(path+".algorithm", "%s does not fit the key in %s: %v", alg, d.File, err)
	}
	if signing {
		if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
			c.Warnings = append(c.Warnings, fmt.Sprintf("%s: private key file %s is readable by other users (mode %#o); run chmod 600 %s", path, d.File, fi.Mode().Perm(), file))
		}
	}
	return k, nil
}

// validScopeToken reports whether s is an RFC 6749 scope-token.
func validScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b == 0x22 || b == 0x5c || b > 0x7e {
			return false
		}
	}
	return true
}

// validVSChar reports whether s is non-empty printable ASCII (RFC 6749
// client_id syntax).
func validVSChar(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func (p *parser) parseAlgorithms(path string, names []string) ([]key.Algorithm, error) {
	var out []key.Algorithm
	for i, n := range names {
		alg, err := key.ParseAlgorithm(n)
		if err != nil {
			return nil, p.at(fmt.Sprintf("%s[%d]", path, i), "%v", err)
		}
		if slices.Contains(out, alg) {
			return nil, p.at(fmt.Sprintf("%s[%d]", path, i), "lists %s twice", alg)
		}
		out = append(out, alg)
	}
	return out, nil
}

// signableAlgorithms lists the algorithms something can sign with: the
// managed series and the static signing credential.
func signableAlgorithms(c *Config) []key.Algorithm {
	var out []key.Algorithm
	if c.KeyManagement.Enabled {
		out = c.KeyManagement.Algorithms()
	}
	if c.SigningCredential != nil && !slices.Contains(out, c.SigningCredential.Algorithm) {
		out = append(out, c.SigningCredential.Algorithm)
	}
	return out
}

func (p *parser) resolveAPIResources(d *fileDoc, c *Config) error {
	names := make(map[string]bool)
	for i, r := range d.APIResources {
		path := fmt.Sprintf("apiResources[%d]", i)
		if names[r.Name] && validVSChar(r.Name) {
			return p.at(path, "name %q is used twice; API resource names must be unique", r.Name)
		}
		names[r.Name] = true
		res, err := p.resolveAPIResource(path, r, c)
		if err != nil {
			return err
		}
		c.APIResources = append(c.APIResources, res)
	}
	return nil
}

// resolveAPIResource checks one apiResources[] entry (at path).
func (p *parser) resolveAPIResource(path string, r apiResourceDoc, c *Config) (APIResource, error) {
	if r.Name == "" || !validVSChar(r.Name) {
		return APIResource{}, p.at(path, "name is required: printable ASCII, used as the token audience and the resource parameter (e.g. orders or https://api.example.com/orders)")
	}
	if len(r.Scopes) == 0 {
		return APIResource{}, p.at(path, "(%s) has no scopes; list the scopes clients may request for it, e.g. scopes: [%s.read]", r.Name, r.Name)
	}
	for j, s := range r.Scopes {
		if !validScopeToken(s) {
			return APIResource{}, p.at(fmt.Sprintf("%s.scopes[%d]", path, j), "%q is not a valid scope: use printable ASCII without spaces, quotes or backslashes", s)
		}
		if slices.Contains(r.Scopes[:j], s) {
			return APIResource{}, p.at(fmt.Sprintf("%s.scopes[%d]", path, j), "lists %q twice", s)
		}
	}
	algs, err := p.parseAlgorithms(path+".allowedAccessTokenSigningAlgorithms", r.AllowedAccessTokenSigningAlgorithms)
	if err != nil {
		return APIResource{}, err
	}
	if signable := signableAlgorithms(c); len(algs) > 0 && !slices.ContainsFunc(algs, func(a key.Algorithm) bool { return slices.Contains(signable, a) }) {
		return APIResource{}, p.at(path+".allowedAccessTokenSigningAlgorithms", "allows %s, but Signet signs only with %s; add one of them to keyManagement.signingAlgorithms", joinAlgs(algs), joinAlgs(signable))
	}
	res := APIResource{Name: r.Name, Scopes: r.Scopes, AllowedAccessTokenSigningAlgorithms: algs}
	if err := p.resolveResourceSecrets(path, &r, &res, c); err != nil {
		return APIResource{}, err
	}
	if err := p.resolveResourceKeys(path, &r, &res); err != nil {
		return APIResource{}, err
	}
	res.Digest = digest(r)
	return res, nil
}

func joinAlgs(algs []key.Algorithm) string {
	if len(algs) == 0 {
		return "nothing"
	}
	s := make([]string, len(algs))
	for i, a := range algs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func (p *parser) resolveClients(d *fileDoc, c *Config) error {
	scopes, allScopes := knownScopes(c)
	ids := make(map[string]bool)
	for i, cd := range d.Clients {
		path := fmt.Sprintf("clients[%d]", i)
		if !validVSChar(cd.ClientID) {
			return p.at(path, "clientId is required (printable ASCII)")
		}
		if ids[cd.ClientID] {
			return p.at(path, "clientId %q is used twice; client ids must be unique", cd.ClientID)
		}
		ids[cd.ClientID] = true
		cl, err := p.resolveClient(path, cd, c, scopes, allScopes)
		if err != nil {
			return err
		}
		c.Clients = append(c.Clients, cl)
	}
	return nil
}

// knownScopes returns the scopes of the API resources of c, as a set and
// in order.
func knownScopes(c *Config) (map[string]bool, []string) {
	scopes := make(map[string]bool)
	var allScopes []string
	for _, r := range c.APIResources {
		for _, s := range r.Scopes {
			if !scopes[s] {
				scopes[s] = true
				allScopes = append(allScopes, s)
			}
		}
	}
	return scopes, allScopes
}

// resolveClient checks one clients[] entry (at path) against c's API
// resources (scopes, allScopes).
func (p *parser) resolveClient(path string, cd clientDoc, c *Config, scopes map[string]bool, allScopes []string) (Client, error) {
	cl := Client{ClientID: cd.ClientID, AccessTokenLifetime: DefaultAccessTokenLifetime}
	if err := p.resolveClientAuth(path, &cd, &cl); err != nil {
		return Client{}, err
	}
	for j, s := range cd.Secrets {
		sec, err := clientauth.ParseSecret(s)
		if err != nil {
			return Client{}, p.at(fmt.Sprintf("%s.secrets[%d]", path, j), "%v", err)
		}
		if sec.Kind() == clientauth.KindPlain {
			c.Warnings = append(c.Warnings, fmt.Sprintf("client %s has a plain: secret; store its hash instead (`signet hash-secret`), plain secrets are for development only", cd.ClientID))
		}
		cl.Secrets = append(cl.Secrets, sec)
	}
	if len(cd.AllowedGrantTypes) == 0 {
		return Client{}, p.at(path, "(%s) has no allowedGrantTypes; Signet supports client_credentials, authorization_code and refresh_token", cd.ClientID)
	}
	for j, g := range cd.AllowedGrantTypes {
		if !supportedGrantType(g) {
			return Client{}, p.at(fmt.Sprintf("%s.allowedGrantTypes[%d]", path, j), "grant type %q is not supported; Signet supports client_credentials, authorization_code and refresh_token", g)
		}
	}
	cl.AllowedGrantTypes = slices.Compact(slices.Clone(cd.AllowedGrantTypes))
	for j, s := range cd.AllowedScopes {
		if !scopes[s] && !IsIdentityScope(s) {
			known := "none: define apiResources with scopes first"
			if len(allScopes) > 0 {
				known = strings.Join(allScopes, ", ")
			}
			return Client{}, p.at(fmt.Sprintf("%s.allowedScopes[%d]", path, j), "scope %q belongs to no API resource (known scopes: %s)", s, known)
		}
		if !slices.Contains(cl.AllowedScopes, s) {
			cl.AllowedScopes = append(cl.AllowedScopes, s)
		}
	}
	if cd.AccessTokenLifetime != nil {
		if *cd.AccessTokenLifetime <= 0 {
			return Client{}, p.at(path+".accessTokenLifetime", "must be a positive duration like 1h or 15m")
		}
		cl.AccessTokenLifetime = time.Duration(*cd.AccessTokenLifetime)
	}
	algs, err := p.parseAlgorithms(path+".allowedIdentityTokenSigningAlgorithms", cd.AllowedIdentityTokenSigningAlgorithms)
	if err != nil {
		return Client{}, err
	}
	cl.AllowedIdentityTokenSigningAlgorithms = algs
	if err := p.resolveClientLogin(path, &cd, &cl, c); err != nil {
		return Client{}, err
	}
	if err := p.resolveClientProfile(path, &cd, &cl, c); err != nil {
		return Client{}, err
	}
	if err := p.resolveClientBranding(path, &cd, &cl); err != nil {
		return Client{}, err
	}
	cl.RequireMFA = cd.RequireMFA
	cl.Digest = digest(cd)
	return cl, nil
}
