package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/signet-id/signet/connector"
	"github.com/signet-id/signet/user"
)

// Options are what a connector takes from the process, not from its
// configuration.
type Options struct {
	// Metrics counts the errors (kinds: the Kind constants); nil counts
	// nothing.
	Metrics *connector.Metrics
	// Logger receives a line per directory error (never a password);
	// nil logs nothing.
	Logger *slog.Logger
	// Store, when set, keeps a record of each user who signed in (the
	// claims and groups read then): Active answers from it, and asks the
	// directory only at a refresh (user.IsRefresh), which updates the
	// record or deletes it; Claims answers from it. Without a Store,
	// every Active and Claims asks the directory.
	Store connector.Store
	// Now is the clock of the records' Updated; nil: time.Now.
	Now func() time.Time
}

// Connector is an LDAP connector: a user.Source. Safe for concurrent
// use; Close it when it is no longer used.
type Connector struct {
	s       *settings
	pool    *pool
	metrics *connector.Metrics
	log     *slog.Logger
	store   connector.Store
	now     func() time.Time
	dummyDN string // bound when the username finds no single entry
	// testHookBind, when set, sees the DN of every user bind.
	testHookBind func(dn string)
}

var _ connector.Password = (*Connector)(nil)

// New checks cfg and returns its connector. It does not connect: the
// first call does (so that a directory down at start does not stop the
// server).
func New(cfg Config, opts Options) (*Connector, error) {
	s, err := cfg.check()
	if err != nil {
		return nil, err
	}
	c := &Connector{s: s, metrics: opts.Metrics, log: opts.Logger, store: opts.Store, now: opts.Now,
		dummyDN: "cn=signet-no-such-user," + s.UserSearch.BaseDN}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.pool = newPool(s.MaxConnections, c.dial)
	c.metrics.Start(s.ID, KindNetwork, KindTLS, KindServiceBind, KindDirectory, KindBusy)
	return c, nil
}

// ID is the connector's id; Name its button's label.
func (c *Connector) ID() string   { return c.s.ID }
func (c *Connector) Name() string { return c.s.Name }

// Close closes the pooled connections.
func (c *Connector) Close() error {
	c.pool.close()
	return nil
}

// dial opens a connection, with TLS as configured, bound as the service
// account.
func (c *Connector) dial(ctx context.Context) (*goldap.Conn, error) {
	s := c.s
	ctx, cancel := context.WithTimeout(ctx, s.DialTimeout)
	defer cancel()
	d := net.Dialer{Timeout: s.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", s.address())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", s.address(), err)
	}
	ldaps := s.u.Scheme == "ldaps"
	if ldaps {
		tc := tls.Client(nc, s.tls.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("TLS with %s: %w", s.address(), err)
		}
		nc = tc
	}
	conn := goldap.NewConn(nc, ldaps)
	conn.Start()
	conn.SetTimeout(s.Timeout)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	err = func() error {
		if s.startTLS {
			if err := conn.StartTLS(s.tls.Clone()); err != nil {
				return fmt.Errorf("StartTLS with %s: %w", s.address(), err)
			}
		}
		return c.bindService(conn)
	}()
	if !stop() && err == nil {
		err = fmt.Errorf("connecting to %s: %w", s.address(), ctx.Err())
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// bindService binds conn as the service account, or anonymously
// without one.
func (c *Connector) bindService(conn *goldap.Conn) error {
	var err error
	if c.s.BindDN == "" {
		err = conn.UnauthenticatedBind("")
	} else {
		err = conn.Bind(c.s.BindDN, c.s.BindPassword)
	}
	if err != nil {
		return serviceBindError{err}
	}
	return nil
}

// serviceBindError is the service account's bind failing.
type serviceBindError struct{ err error }

func (e serviceBindError) Error() string {
	return "bind as the service account (bindDN): " + e.err.Error()
}
func (e serviceBindError) Unwrap() error { return e.err }

// withConn runs f on a pooled connection bound as the service account,
// closing the connection when ctx ends. When f meets a broken idle
// connection (the directory restarted since it was pooled), f runs once
// more on a new connection. The connection goes back to the pool unless
// f failed with a network error or ctx ended. f must leave the
// connection bound as the service account.
func (c *Connector) withConn(ctx context.Context, f func(*goldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		conn, pooled, err := c.pool.get(ctx, attempt > 0)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		err = f(conn)
		good := stop() && !goldap.IsErrorWithCode(err, goldap.ErrorNetwork)
		c.pool.put(conn, good)
		if err != nil && pooled && attempt == 0 && goldap.IsErrorWithCode(err, goldap.ErrorNetwork) && ctx.Err() == nil {
			continue
		}
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		return err
	}
}

// unavailable counts and logs err and returns it as user.ErrUnavailable;
// a request that ended (the caller went away) is neither counted nor
// logged.
func (c *Connector) unavailable(op string, err error) error {
	if !errors.Is(err, context.Canceled) {
		kind := classify(err)
		c.metrics.Count(c.s.ID, kind)
		c.log.Warn("ldap connector: the directory did not answer", "connector", c.s.ID, "operation", op, "kind", kind, "error", err)
	}
	return fmt.Errorf("%w: ldap connector %s: %s: %w", user.ErrUnavailable, c.s.ID, op, err)
}

func classify(err error) string {
	var (
		busy      errBusy
		sb        serviceBindError
		verify    *tls.CertificateVerificationError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		alert     tls.AlertError
		header    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &busy):
		return KindBusy
	case errors.As(err, &verify), errors.As(err, &authority), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &alert), errors.As(err, &header),
		// go-ldap's StartTLS keeps only the handshake error's text.
		goldap.IsErrorWithCode(err, goldap.ErrorNetwork) && strings.Contains(err.Error(), "TLS handshake failed"):
		return KindTLS
	case errors.As(err, &sb) && goldap.IsErrorWithCode(err, goldap.LDAPResultInvalidCredentials):
		return KindServiceBind
	case goldap.IsErrorWithCode(err, goldap.ErrorNetwork), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return KindNetwork
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return KindNetwork
	}
	return KindDirectory
}

// Kinds of error (the kind label of signet_connector_errors_total).
const (
	KindNetwork     = "network"      // dial, connection lost, timeout
	KindTLS         = "tls"          // certificate verification, handshake
	KindServiceBind = "service_bind" // the service account's bind was refused
	KindDirectory   = "directory"    // the directory refused an operation (busy, unavailable, no such base DN, ...)
	KindBusy        = "busy"         // no pooled connection came free in time
)

// errNoEntry: the search found no entry; errAmbiguous: more than one.
var (
	errNoEntry   = errors.New("no entry")
	errAmbiguous = errors.New("more than one entry")
)

// checkUsername refuses what no directory username is: empty, too
// long, invalid UTF-8, control characters (NUL, tab, CR and LF
// included). Spaces around it are dropped (LDAP's matching rules ignore
// them too).
func checkUsername(username string) (string, bool) {
	username = strings.Trim(username, " ")
	if username == "" || len(username) > MaxUsernameBytes || !utf8.ValidString(username) {
		return "", false
	}
	if strings.ContainsFunc(username, unicode.IsControl) {
		return "", false
	}
	return username, true
}

// CanonicalUsername is username as the directory's matching rules see
// it (caseIgnoreMatch: case folded, spaces around dropped, runs of inner
// spaces as one), for the server's per-username login budgets: "Alice"
// and "alice " are one username there as here.
func (c *Connector) CanonicalUsername(username string) string {
	return strings.ToLower(strings.Join(strings.Fields(username), " "))
}

// Authenticate signs username in with password (see the package
// documentation). It returns user.ErrInvalidCredentials for an unknown,
// ambiguous or disabled username and a wrong or empty password, and
// user.ErrUnavailable when the directory did not answer.
func (c *Connector) Authenticate(ctx context.Context, username, password string) (string, error) {
	name, ok := checkUsername(username)
	if !ok || password == "" {
		return "", user.ErrInvalidCredentials
	}
	ctx, cancel := context.WithTimeout(ctx, c.s.Timeout)
	defer cancel()
	us := c.s.UserSearch
	filter := "(" + us.Username + "=" + goldap.EscapeFilter(name) + ")"
	var (
		subject string
		refused error
		claims  map[string]any // for the Store
	)
	err := c.withConn(ctx, func(conn *goldap.Conn) error {
		subject, refused, claims = "", nil, nil
		e, err := c.searchUser(conn, us.BaseDN, filter)
		dn := c.dummyDN
		switch {
		case errors.Is(err, errNoEntry):
			refused = user.ErrInvalidCredentials
		case errors.Is(err, errAmbiguous):
			c.log.Warn("ldap connector: a username matches more than one entry; sign-in refused", "connector", c.s.ID, "username", name)
			refused = fmt.Errorf("%w: the username matches more than one entry", user.ErrInvalidCredentials)
		case err != nil:
			return err
		case disabled(e):
			refused = fmt.Errorf("%w: the account is disabled", user.ErrInvalidCredentials)
		default:
			if subject, err = c.subject(e); err != nil {
				return err
			}
			dn = e.DN
		}
		// The user's bind, or the same round trip with a DN that does not
		// exist: an unknown user costs what a wrong password costs.
		if c.testHookBind != nil {
			c.testHookBind(dn)
		}
		berr := conn.Bind(dn, password)
		if err := c.bindService(conn); err != nil {
			return err
		}
		switch {
		case refused != nil:
			subject = ""
		case berr == nil:
			if c.store != nil {
				claims, err = c.claimsOf(conn, e)
				return err
			}
		case goldap.IsErrorAnyOf(berr, goldap.LDAPResultInvalidCredentials, goldap.LDAPResultInappropriateAuthentication,
			goldap.LDAPResultUnwillingToPerform, goldap.LDAPResultConstraintViolation):
			// 49, and what directories answer for a locked or expired
			// account or password (53 on OpenLDAP's ppolicy, 19 on some).
			subject, refused = "", user.ErrInvalidCredentials
		default:
			return berr
		}
		return nil
	})
	if err != nil {
		return "", c.unavailable("sign-in", err)
	}
	if refused != nil {
		return "", refused
	}
	if c.store != nil {
		rec := connector.Record{Subject: subject, Connector: c.s.ID, Claims: claims, Updated: c.now()}
		if err := c.store.PutConnectorUser(ctx, rec); err != nil {
			return "", fmt.Errorf("%w: ldap connector %s: keeping the user's record: %w", user.ErrUnavailable, c.s.ID, err)
		}
	}
	return subject, nil
}

// searchUser returns the one user entry that filter (ANDed with the
// configured filters) finds under base.
func (c *Connector) searchUser(conn *goldap.Conn, base, filter string) (*goldap.Entry, error) {
	us := c.s.UserSearch
	f := "(&" + us.Filter + filter
	if us.DisabledFilter != "" {
		f += "(!" + us.DisabledFilter + ")"
	}
	f += ")"
	res, err := conn.Search(goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		2, int(c.s.Timeout.Seconds()), false, f, c.s.userAttrs, nil))
	if goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		return nil, errAmbiguous
	}
	if err != nil {
		return nil, fmt.Errorf("searching %s: %w", base, err)
	}
	switch len(res.Entries) {
	case 0:
		return nil, errNoEntry
	case 1:
		return res.Entries[0], nil
	}
	return nil, errAmbiguous
}

// disabled reports whether e is an account the directory says is
// disabled.
func disabled(e *goldap.Entry) bool {
	// OpenLDAP ppolicy: locked by an administrator (a temporary lockout
	// holds another time, and the bind refuses it while it lasts).
	if slices.Contains(e.GetAttributeValues("pwdAccountLockedTime"), "000001010000Z") {
		return true
	}
	if strings.EqualFold(e.GetAttributeValue("nsAccountLock"), "true") {
		return true
	}
	if v := e.GetAttributeValue("userAccountControl"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n&0x2 != 0 {
			return true
		}
	}
	return false
}

// subject is "<connector id>:<id>" for entry e.
func (c *Connector) subject(e *goldap.Entry) (string, error) {
	attr := c.s.UserSearch.IDAttr
	raw := e.GetRawAttributeValue(attr)
	if len(raw) == 0 {
		return "", fmt.Errorf("the entry %s has no %s (userSearch.idAttr): choose an attribute every user has", e.DN, attr)
	}
	return connector.Subject(c.s.ID, encodeID(attr, raw)), nil
}

// encodeID writes an id attribute's value as text: objectGUID as its
// GUID string, printable text as it is, anything else as "b64:" and its
// base64url.
func encodeID(attr string, raw []byte) string {
	if strings.EqualFold(attr, "objectGUID") && len(raw) == 16 {
		b := raw
		return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
	}
	s := string(raw)
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) && !strings.HasPrefix(s, "b64:") {
		return s
	}
	return "b64:" + base64.RawURLEncoding.EncodeToString(raw)
}

// decodeID is encodeID's inverse; false for text encodeID never writes.
func decodeID(attr, id string) ([]byte, bool) {
	if strings.EqualFold(attr, "objectGUID") {
		h := strings.ReplaceAll(id, "-", "")
		if len(h) != 32 || len(id) != 36 {
			return nil, false
		}
		var b [16]byte
		for i := range b {
			v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
			if err != nil {
				return nil, false
			}
			b[i] = byte(v)
		}
		// The GUID string's first three groups are little-endian.
		return []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]}, true
	}
	if rest, ok := strings.CutPrefix(id, "b64:"); ok {
		b, err := base64.RawURLEncoding.DecodeString(rest)
		return b, err == nil
	}
	return []byte(id), id != ""
}

// lookup finds the entry of subject; nil when it is not this connector's
// subject, or no single enabled entry has its id.
func (c *Connector) lookup(conn *goldap.Conn, subject string) (*goldap.Entry, error) {
	id, ok := strings.CutPrefix(subject, c.s.ID+":")
	if !ok {
		return nil, nil
	}
	raw, ok := decodeID(c.s.UserSearch.IDAttr, id)
	if !ok {
		return nil, nil
	}
	e, err := c.searchUser(conn, c.s.UserSearch.BaseDN, "("+c.s.UserSearch.IDAttr+"="+goldap.EscapeFilter(string(raw))+")")
	if errors.Is(err, errNoEntry) || errors.Is(err, errAmbiguous) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if disabled(e) {
		return nil, nil
	}
	return e, nil
}

// mine reports whether subject is one of this connector's.
func (c *Connector) mine(subject string) bool {
	id, _, ok := connector.SplitSubject(subject)
	return ok && id == c.s.ID
}

// Active reports whether subject's entry still exists and is not
// disabled: one search. With a Store, outside a refresh, it reports
// whether the user has a record (no search); at a refresh the search
// updates the record, or deletes it. A subject of another source is not
// active.
func (c *Connector) Active(ctx context.Context, subject string) (bool, error) {
	if !c.mine(subject) {
		return false, nil
	}
	if c.store != nil && !user.IsRefresh(ctx) {
		_, found, err := connector.UserRecord(ctx, c.store, subject)
		return found, err
	}
	var claims map[string]any
	found, err := c.entry(ctx, "user look-up", subject, func(conn *goldap.Conn, e *goldap.Entry) (err error) {
		if c.store != nil {
			claims, err = c.claimsOf(conn, e)
		}
		return err
	})
	if err != nil || c.store == nil {
		return found, err
	}
	if !found {
		c.log.Info("ldap connector: the user is gone or disabled in the directory: no longer active", "connector", c.s.ID, "sub", subject)
		return false, c.store.DeleteConnectorUser(ctx, subject)
	}
	return true, c.store.PutConnectorUser(ctx, connector.Record{Subject: subject, Connector: c.s.ID, Claims: claims, Updated: c.now()})
}

// entry runs f on subject's entry, if it has one that is enabled, and
// reports whether it has.
func (c *Connector) entry(ctx context.Context, op, subject string, f func(*goldap.Conn, *goldap.Entry) error) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.s.Timeout)
	defer cancel()
	var found bool
	err := c.withConn(ctx, func(conn *goldap.Conn) error {
		e, err := c.lookup(conn, subject)
		found = e != nil
		if err != nil || e == nil {
			return err
		}
		return f(conn, e)
	})
	if err != nil {
		return false, c.unavailable(op, err)
	}
	return found, nil
}

// claimsOf returns all the claims of e: preferred_username, name, email
// and email_verified (the directory's administrators set the address: as
// verified as the account itself), groups.
func (c *Connector) claimsOf(conn *goldap.Conn, e *goldap.Entry) (map[string]any, error) {
	us := c.s.UserSearch
	all := map[string]any{"preferred_username": e.GetAttributeValue(us.Username)}
	if v := e.GetAttributeValue(us.NameAttr); v != "" {
		all["name"] = v
	}
	if v := e.GetAttributeValue(us.EmailAttr); v != "" {
		all["email"], all["email_verified"] = v, true
	}
	if c.s.GroupSearch.BaseDN != "" {
		groups, err := c.groups(conn, e)
		if err != nil {
			return nil, err
		}
		all["groups"] = groups
	}
	return all, nil
}

// Claims releases subject's claims (connector.Release): at userinfo,
// name and preferred_username (and groups) with scope profile, email and
// email_verified with scope email; on Signet's pages preferred_username
// and name; nothing in ID tokens (the scope claims are at userinfo,
// OpenID Connect Core 5.4). With a Store they are the record's (read at
// the sign-in or the last refresh); without, the directory's.
func (c *Connector) Claims(ctx context.Context, req user.ClaimsRequest) (map[string]any, error) {
	if (req.Caller != user.CallerUserinfo && req.Caller != user.CallerPage) || !c.mine(req.Subject) {
		return nil, nil
	}
	var all map[string]any
	if c.store != nil {
		rec, found, err := connector.UserRecord(ctx, c.store, req.Subject)
		if !found {
			return nil, err
		}
		all = rec.Claims
	} else if _, err := c.entry(ctx, "user claims", req.Subject, func(conn *goldap.Conn, e *goldap.Entry) (err error) {
		all, err = c.claimsOf(conn, e)
		return err
	}); err != nil {
		return nil, err
	}
	if all == nil {
		return nil, nil
	}
	return connector.ReleaseTo(all, req), nil
}

// Groups returns the names of subject's groups (groupSearch), from the
// directory; nil when subject is not an enabled user of this connector.
func (c *Connector) Groups(ctx context.Context, subject string) ([]string, error) {
	var groups []string
	_, err := c.entry(ctx, "groups", subject, func(conn *goldap.Conn, e *goldap.Entry) (err error) {
		groups, err = c.groups(conn, e)
		return err
	})
	return groups, err
}

// groupFilter is the search for e's groups: groupSearch.filter ANDed
// with any user matcher, the values escaped; "" when there is nothing to
// search (no groupSearch, or e has none of the matchers' attributes).
func (c *Connector) groupFilter(e *goldap.Entry) string {
	gs := c.s.GroupSearch
	if gs.BaseDN == "" {
		return ""
	}
	var or strings.Builder
	for _, m := range gs.UserMatchers {
		values := []string{e.DN}
		if !strings.EqualFold(m.UserAttr, "DN") {
			values = e.GetAttributeValues(m.UserAttr)
		}
		for _, v := range values {
			or.WriteString("(" + m.GroupAttr + "=" + goldap.EscapeFilter(v) + ")")
		}
	}
	if or.Len() == 0 {
		return ""
	}
	return "(&" + gs.Filter + "(|" + or.String() + "))"
}

// groups searches e's groups: groupSearch.filter ANDed with any user
// matcher. At most MaxGroups are read.
func (c *Connector) groups(conn *goldap.Conn, e *goldap.Entry) ([]string, error) {
	gs := c.s.GroupSearch
	f := c.groupFilter(e)
	if f == "" {
		return []string{}, nil
	}
	res, err := conn.Search(goldap.NewSearchRequest(gs.BaseDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		MaxGroups, int(c.s.Timeout.Seconds()), false, f, []string{gs.NameAttr}, nil))
	if err != nil && !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		return nil, fmt.Errorf("searching groups under %s: %w", gs.BaseDN, err)
	}
	if err != nil {
		c.log.Warn("ldap connector: a user has more groups than are read", "connector", c.s.ID, "dn", e.DN, "max", MaxGroups)
	}
	groups := []string{}
	if res != nil {
		for _, g := range res.Entries {
			if n := g.GetAttributeValue(gs.NameAttr); n != "" {
				groups = append(groups, n)
			}
		}
	}
	slices.Sort(groups)
	return slices.Compact(groups), nil
}
