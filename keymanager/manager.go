package keymanager

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/signet-id/signet/jwk"
	"github.com/signet-id/signet/jws"
	"github.com/signet-id/signet/key"
	"github.com/signet-id/signet/keybackend"
	"github.com/signet-id/signet/keystore"
	"github.com/signet-id/signet/seal"
)

// Sentinel errors.
var (
	// ErrNotReady: no credential can sign yet (start-up, unreadable keys,
	// managed keys disabled without a static credential).
	ErrNotReady = errors.New("keymanager: not ready to sign")
	// ErrNoAllowedAlgorithm: none of the signing credentials uses an
	// allowed algorithm.
	ErrNoAllowedAlgorithm = errors.New("keymanager: no signing credential for the allowed algorithms")
	// ErrUnreadableKey: a stored key cannot be decrypted or parsed.
	ErrUnreadableKey = errors.New("keymanager: stored key is unreadable")
	// ErrUnknownKey: no managed key has that kid.
	ErrUnknownKey = errors.New("keymanager: no managed key with that kid")
	// ErrStaticKey: the operation does not apply to a configured key.
	ErrStaticKey = errors.New("keymanager: the key is configured, not managed")
	// ErrAlreadyAnnounced: a rotation was asked while a successor is
	// already announced.
	ErrAlreadyAnnounced = errors.New("keymanager: a successor is already announced")
	// ErrConfig: the manager's configuration is invalid.
	ErrConfig = errors.New("keymanager: invalid configuration")
)

// StaticKey is an operator-supplied key: the signing credential (Signer
// set) or a validation key (Signer nil, Public set).
type StaticKey struct {
	// KID is the key id; empty means the RFC 7638 thumbprint.
	KID       string
	Algorithm key.Algorithm
	// Signer signs (signing credential only).
	Signer crypto.Signer
	// Public is the public key; derived from Signer when nil.
	Public       crypto.PublicKey
	Certificates []*x509.Certificate
}

// SignerFactory turns a decrypted private key into the signer the token
// path uses, e.g. one backed by OpenSSL. It is called once per key when the
// key is loaded, never per signature. The default returns priv itself.
type SignerFactory func(alg key.Algorithm, priv crypto.Signer) (crypto.Signer, error)

// Config configures a Manager. Store is required; everything else has a
// documented default.
type Config struct {
	// Options are the key management options; validated by New.
	Options key.Options
	// Store holds managed keys.
	Store keystore.Store
	// Sealer protects keys at rest. It is required when
	// Options.ProtectKeys is true and ignored otherwise.
	Sealer *seal.Sealer
	// Static is the static signing credential, or nil.
	Static *StaticKey
	// Validation are keys published for validation only.
	Validation []StaticKey
	// Logger receives key events; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for kids and jitter; nil means crypto/rand.
	Rand io.Reader
	// SignerFactory wraps loaded keys; nil means the key itself.
	SignerFactory SignerFactory
	// PollInterval is how often Run checks a Revisioner store's change
	// marker; zero means one second.
	PollInterval time.Duration
	// KeyBackend makes new managed keys inside a PKCS#11 token or AWS KMS;
	// nil makes software keys (sealed by Sealer). The manager does not
	// close it.
	KeyBackend keybackend.Backend
	// PreviousBackends open the keys of other backends that records still
	// refer to after keyBackend changed, until those keys are deleted.
	PreviousBackends []keybackend.Backend
}

// JWKS is a serialized JWK set and its strong ETag (quoted).
type JWKS struct {
	Body []byte
	ETag string
}

// KeyInfo describes a key without its private material.
type KeyInfo struct {
	KID         string
	Algorithm   key.Algorithm
	State       key.State // for static keys: StateStaticSigning or StateValidation
	Created     time.Time
	SignsFrom   time.Time
	RetiresAt   time.Time
	DeleteAfter time.Time
	Revoked     time.Time
	// Backend is the key backend holding the private key of a managed key
	// (key.BackendSoftware, "pkcs11", "awskms"); empty for configured keys.
	Backend string
	X509    bool
	// Unreadable is set when the stored key cannot be decrypted or parsed.
	Unreadable error
	// Standby is set for a managed key the schedule makes active while the
	// static signing credential, of the same algorithm, signs in its place
	// (phase 1 of a migration): it is announced and does not sign.
	Standby bool
}

// States of configured keys in KeyInfo.
const (
	StateStaticSigning key.State = "static-signing"
	StateValidation    key.State = "validation"
)

// loaded is a managed key whose private half was decrypted.
type loaded struct {
	sealed []byte // the stored bytes it came from, to notice a change
	key    *jws.Key
	certs  []*x509.Certificate
}

// snapshot is what the token path and the JWKS endpoint read. Immutable.
type snapshot struct {
	order      []*jws.Key // signing candidates: static first, then managed in configured order
	defaultKey *jws.Key
	algs       []key.Algorithm
	jwks       *JWKS
	published  []string // kids in the JWKS, to notice a change
	keys       []KeyInfo
	next       time.Time
	ready      error
	storeErr   error
	plan       key.Plan
}

// Manager owns the signing keys. Create it with New, call Start, then run
// Run in a goroutine. All methods are safe for concurrent use.
type Manager struct {
	opts     key.Options
	store    keystore.Store
	sealer   *seal.Sealer
	log      *slog.Logger
	now      func() time.Time
	rand     io.Reader
	factory  SignerFactory
	poll     time.Duration
	backend  keybackend.Backend   // new keys are made here; nil: software
	backends []keybackend.Backend // backend and PreviousBackends, to open keys
	static   *jws.Key
	staticPK staticPublic
	valid    []staticPublic

	snap atomic.Pointer[snapshot]
	// staticUsed is set when the static credential is handed out to sign;
	// the loop records it in the store (the token path never writes).
	staticUsed atomic.Bool

	mu         sync.Mutex // serializes reconciles and guards the fields below
	records    []key.Record
	cache      map[string]*loaded
	unreadable map[string]error
	storeErr   error
	revision   string
	lastPlan   *key.Plan
	// lastRecords are the records behind lastPlan, to log a deleted
	// key's algorithm and times.
	lastRecords map[string]key.Record
	// createdHere are the kids this instance created since the last
	// publish, so the first publish logs their creation.
	createdHere map[string]bool
	// phase3Checked: whether the start of phase 3 was looked for.
	phase3Checked bool
	// staticRecorded is when MetaStaticLastSigned was last written.
	staticRecorded time.Time
}

type staticPublic struct {
	kid   string
	alg   key.Algorithm
	pub   crypto.PublicKey
	certs []*x509.Certificate
}

// New checks the configuration and returns a Manager. It does no I/O.
func New(cfg Config) (*Manager, error) {
	if err := cfg.Options.Validate(); err != nil {
		return nil, err
	}
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: no key store", ErrConfig)
	}
	if err := checkBackend(cfg.KeyBackend, cfg.Options); err != nil {
		return nil, err
	}
	if cfg.Options.ProtectKeys && cfg.Sealer == nil && cfg.KeyBackend == nil {
		return nil, fmt.Errorf("%w: protectKeys is on but no protection secret is configured; configure keyManagement.protection.secrets or turn protection off explicitly", ErrConfig)
	}
	m := &Manager{
		opts:       cfg.Options,
		store:      cfg.Store,
		sealer:     cfg.Sealer,
		log:        cfg.Logger,
		now:        cfg.Now,
		rand:       cfg.Rand,
		factory:    cfg.SignerFactory,
		poll:       cfg.PollInterval,
		backend:    cfg.KeyBackend,
		cache:      make(map[string]*loaded),
		unreadable: make(map[string]error),
	}
	if !m.opts.ProtectKeys {
		m.sealer = nil
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.rand == nil {
		m.rand = rand.Reader
	}
	if m.factory == nil {
		m.factory = func(_ key.Algorithm, s crypto.Signer) (crypto.Signer, error) { return s, nil }
	}
	if m.poll <= 0 {
		m.poll = time.Second
	}
	if m.backend != nil {
		m.backends = append(m.backends, m.backend)
	}
	for _, b := range cfg.PreviousBackends {
		if b != nil && m.backendFor(b.Type()) == nil {
			m.backends = append(m.backends, b)
		}
	}
	kids := make(map[string]string)
	if cfg.Static != nil {
		sp, err := checkStatic(*cfg.Static, "signingCredential", true)
		if err != nil {
			return nil, err
		}
		signer, err := m.factory(sp.alg, cfg.Static.Signer)
		if err != nil {
			return nil, fmt.Errorf("%w: signingCredential: %w", ErrConfig, err)
		}
		k, err := jws.NewKey(sp.kid, sp.alg, signer)
		if err != nil {
			return nil, fmt.Errorf("%w: signingCredential: %w", ErrConfig, err)
		}
		m.static, m.staticPK = k, sp
		kids[sp.kid] = "signingCredential"
	}
	for i, v := range cfg.Validation {
		where := fmt.Sprintf("validationKeys[%d]", i)
		sp, err := checkStatic(v, where, false)
		if err != nil {
			return nil, err
		}
		if other, dup := kids[sp.kid]; dup {
			return nil, fmt.Errorf("%w: %s has kid %q, as %s does; give each key its own kid (or remove the duplicate)", ErrConfig, where, sp.kid, other)
		}
		kids[sp.kid] = where
		m.valid = append(m.valid, sp)
	}
	return m, nil
}

func checkStatic(s StaticKey, where string, signing bool) (staticPublic, error) {
	if !s.Algorithm.Valid() {
		return staticPublic{}, fmt.Errorf("%w: %s: %w %q", ErrConfig, where, key.ErrUnknownAlgorithm, s.Algorithm)
	}
	pub := s.Public
	if s.Signer != nil {
		pub = s.Signer.Public()
	}
	if signing && s.Signer == nil {
		return staticPublic{}, fmt.Errorf("%w: %s needs a private key", ErrConfig, where)
	}
	if pub == nil {
		return staticPublic{}, fmt.Errorf("%w: %s has no key", ErrConfig, where)
	}
	if err := jwk.CheckAlgorithm(s.Algorithm, pub); err != nil {
		return staticPublic{}, fmt.Errorf("%w: %s: %w", ErrConfig, where, err)
	}
	kid := s.KID
	if kid == "" {
		tp, err := jwk.Thumbprint(pub)
		if err != nil {
			return staticPublic{}, fmt.Errorf("%w: %s: %w", ErrConfig, where, err)
		}
		kid = tp
	}
	return staticPublic{kid: kid, alg: s.Algorithm, pub: pub, certs: s.Certificates}, nil
}

// SigningKey returns the credential that signs a token whose allowed
// algorithms are allowed (empty: no restriction). With no restriction the
// static signing credential signs if there is one, else the managed key of
// the first configured algorithm. With a restriction, the first credential
// whose algorithm is allowed signs, static first. It reads the snapshot
// only: no lock, no store, no allocation on success.
func (m *Manager) SigningKey(allowed []key.Algorithm) (*jws.Key, error) {
	s := m.snap.Load()
	if s == nil {
		return nil, fmt.Errorf("%w: keys are not loaded yet", ErrNotReady)
	}
	if len(allowed) == 0 {
		if s.defaultKey == nil {
			return nil, fmt.Errorf("%w: %w", ErrNotReady, s.ready)
		}
		m.noteStatic(s.defaultKey)
		return s.defaultKey, nil
	}
	for _, k := range s.order {
		if slices.Contains(allowed, k.Algorithm()) {
			m.noteStatic(k)
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: allowed %v, signing with %v", ErrNoAllowedAlgorithm, allowed, s.algs)
}

func (m *Manager) noteStatic(k *jws.Key) {
	if k == m.static && !m.staticUsed.Load() {
		m.staticUsed.Store(true)
	}
}

// JWKS returns the current JWK set. Never nil after Start.
func (m *Manager) JWKS() *JWKS {
	if s := m.snap.Load(); s != nil {
		return s.jwks
	}
	return emptyJWKS
}

var emptyJWKS = &JWKS{Body: []byte(`{"keys":[]}`), ETag: `"empty"`}

// SigningAlgorithms returns the algorithms of the current signing
// credentials (static first), for discovery.
func (m *Manager) SigningAlgorithms() []key.Algorithm {
	if s := m.snap.Load(); s != nil {
		return slices.Clone(s.algs)
	}
	return nil
}

// Ready returns nil when every configured algorithm can sign (and no
// published key is unreadable); otherwise an error that says why. A store
// outage alone does not make the manager unready: it keeps signing and
// publishing with the keys it holds, and StoreError reports the outage.
func (m *Manager) Ready() error {
	s := m.snap.Load()
	if s == nil {
		return fmt.Errorf("%w: keys are not loaded yet", ErrNotReady)
	}
	return s.ready
}

// StoreError returns the error of the last store access, or nil if the
// store answered.
func (m *Manager) StoreError() error {
	if s := m.snap.Load(); s != nil {
		return s.storeErr
	}
	return nil
}

// Keys lists every key the manager knows: configured keys first, then
// managed keys with their state and schedule.
func (m *Manager) Keys() []KeyInfo {
	if s := m.snap.Load(); s != nil {
		return slices.Clone(s.keys)
	}
	return nil
}

// Next returns the next scheduled key change (zero if none).
func (m *Manager) Next() time.Time {
	if s := m.snap.Load(); s != nil {
		return s.next
	}
	return time.Time{}
}

// Plan returns the plan behind the current snapshot.
func (m *Manager) Plan() key.Plan {
	if s := m.snap.Load(); s != nil {
		return s.plan
	}
	return key.Plan{}
}

// Start loads the store, creates the keys that are needed and publishes
// the first snapshot. It fails only when the store cannot be read; an
// unreadable key makes Ready fail instead.
func (m *Manager) Start(ctx context.Context) error {
	return m.Reconcile(ctx)
}

// Reconcile is one step of the loop: reload the store, act on the plan
// and publish a new snapshot. When the store cannot be reached, the keys
// already held keep serving (a loaded announced key still activates on
// schedule) and the error is returned.
func (m *Manager) Reconcile(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.reconcileLocked(ctx)
	m.publishLocked()
	m.recordMigrationLocked(ctx)
	if err == nil {
		err = m.backendRetryLocked()
	}
	return err
}

func (m *Manager) reconcileLocked(ctx context.Context) error {
	if err := m.loadLocked(ctx); err != nil {
		return err
	}
	if err := m.switchBackendLocked(ctx); err != nil {
		return err
	}
	plan := key.Compute(m.now(), m.records, m.opts)
	if len(plan.Create) == 0 && len(plan.Extend) == 0 && len(plan.Delete) == 0 {
		return nil
	}
	if err := m.actLocked(ctx, plan); err != nil {
		return err
	}
	return m.loadLocked(ctx)
}

// loadLocked reads every record and decrypts the ones not cached yet.
func (m *Manager) loadLocked(ctx context.Context) error {
	recs, err := m.store.Keys(ctx)
	if err != nil {
		// Run logs the outage, once.
		m.storeErr = err
		return fmt.Errorf("keymanager: load keys: %w", err)
	}
	m.storeErr = nil
	m.records = recs
	if r, ok := m.store.(keystore.Revisioner); ok {
		if rev, err := r.Revision(ctx); err == nil {
			m.revision = rev
		}
	}
	seen := make(map[string]bool, len(recs))
	for i := range recs {
		r := &recs[i]
		seen[r.KID] = true
		if c, ok := m.cache[r.KID]; ok && bytes.Equal(c.sealed, r.PrivateKey) {
			continue
		}
		l, err := m.open(ctx, r)
		if err != nil {
			if _, known := m.unreadable[r.KID]; !known {
				m.log.Error("stored key is unreadable; it is kept, and no replacement is minted",
					"kid", r.KID, "alg", r.Algorithm, "err", err, "likely_cause", likelyCause(err))
			}
			m.unreadable[r.KID] = err
			delete(m.cache, r.KID)
			continue
		}
		delete(m.unreadable, r.KID)
		m.cache[r.KID] = l
	}
	for kid := range m.cache {
		if !seen[kid] {
			delete(m.cache, kid)
		}
	}
	for kid := range m.unreadable {
		if !seen[kid] {
			delete(m.unreadable, kid)
		}
	}
	return nil
}

func likelyCause(err error) string {
	switch {
	case errors.Is(err, seal.ErrUnknownSecret):
		return "the protection secret changed or differs between instances; configure the secret that sealed it (after the current one)"
	case errors.Is(err, seal.ErrAuthentication):
		return "the stored record was modified or corrupted; restore it from a backup"
	case errors.Is(err, errProtectionOff):
		return "the key is sealed but protection is off; turn protection on with the secret that sealed it"
	case errors.Is(err, errBackendNotConfigured):
		return "keyBackend was changed while this key remains; keep the old backend's settings in keyManagement.keyBackend.previous until the key is deleted"
	case errors.Is(err, keybackend.ErrObjectMissing), errors.Is(err, keybackend.ErrPublicMismatch):
		return "the key object is gone from the backend or is another key (deleted by hand, another token or account, keyBackend pointing elsewhere); restore it, or revoke the key"
	case errors.Is(err, keybackend.ErrUnavailable):
		return "the key backend did not answer (token, network, credentials, throttling); the key loads again when it answers"
	default:
		return "the stored record is damaged; restore it from a backup"
	}
}

var errProtectionOff = errors.New("key is sealed but protection is off")

// open decrypts and parses one record.
func (m *Manager) open(ctx context.Context, r *key.Record) (*loaded, error) {
	if r.InBackend() {
		return m.openBackend(ctx, r)
	}
	der := r.PrivateKey
	switch r.Protection {
	case key.ProtectionAESGCM:
		if m.sealer == nil {
			return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, errProtectionOff)
		}
		pt, err := m.sealer.Open(r.KID, r.Algorithm, r.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrUnreadableKey, err)
		}
		der = pt
	case key.ProtectionNone:
	default:
		return nil, fmt.Errorf("%w: kid %s: unknown protection %q", ErrUnreadableKey, r.KID, r.Protection)
	}
	priv, err := jwk.UnmarshalPrivate(der)
	if r.Protection != key.ProtectionNone {
		clear(der) // the decrypted copy; the parsed key lives on
	}
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, err)
	}
	if err := jwk.CheckAlgorithm(r.Algorithm, priv.Public()); err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, err)
	}
	signer, err := m.factory(r.Algorithm, priv)
	if err != nil {
		return nil, fmt.Errorf("keymanager: signer for kid %s: %w", r.KID, err)
	}
	k, err := jws.NewKey(r.KID, r.Algorithm, signer)
	if err != nil {
		return nil, fmt.Errorf("%w: kid %s: %w", ErrUnreadableKey, r.KID, err)
	}
	l := &loaded{sealed: slices.Clone(r.PrivateKey), key: k}
	if r.X509 {
		c, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			return nil, fmt.Errorf("%w: kid %s: certificate: %w", ErrUnreadableKey, r.KID, err)
		}
		l.certs = []*x509.Certificate{c}
	}
	return l, nil
}

// newKID returns a random 128-bit kid as 32 lowercase hex digits: safe in
// URLs, file names and shells, and never starting with '-', so an operator
// can pass it to the CLI as it is (a base64url kid could begin with '-' and
// read as a flag).
func (m *Manager) newKID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(m.rand, b[:]); err != nil {
		return "", fmt.Errorf("keymanager: kid: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// newRecord generates and seals a key for a schedule.
func (m *Manager) newRecord(ctx context.Context, nk key.NewKey) (key.Record, error) {
	kid, err := m.newKID()
	if err != nil {
		return key.Record{}, err
	}
	if m.backend != nil {
		return m.newBackendRecord(ctx, kid, nk)
	}
	priv, err := jwk.Generate(nk.Algorithm, m.opts.RSAKeySize)
	if err != nil {
		return key.Record{}, fmt.Errorf("keymanager: generate %s key: %w", nk.Algorithm, err)
	}
	der, err := jwk.MarshalPrivate(priv)
	if err != nil {
		return key.Record{}, err
	}
	r := key.Record{
		KID: kid, Algorithm: nk.Algorithm,
		Created: nk.Created, SignsFrom: nk.SignsFrom, RetiresAt: nk.RetiresAt, DeleteAfter: nk.DeleteAfter,
		X509: nk.X509, Protection: key.ProtectionNone, PrivateKey: der,
	}
	if nk.X509 {
		cert, err := jwk.SelfSigned(priv, kid, nk.Created, nk.DeleteAfter)
		if err != nil {
			return key.Record{}, err
		}
		r.Certificate = cert
	}
	if m.sealer != nil {
		sealed, err := m.sealer.Seal(kid, nk.Algorithm, der)
		clear(der)
		if err != nil {
			return key.Record{}, fmt.Errorf("keymanager: seal key %s: %w", kid, err)
		}
		r.Protection, r.PrivateKey = key.ProtectionAESGCM, sealed
	}
	return r, nil
}

// lock takes the store's cross-process lock when it has one.
func (m *Manager) lock(ctx context.Context) (func(), error) {
	l, ok := m.store.(keystore.Locker)
	if !ok {
		return func() {}, nil
	}
	unlock, err := l.Lock(ctx)
	if err != nil {
		return nil, fmt.Errorf("keymanager: lock store: %w", err)
	}
	return func() {
		if err := unlock(); err != nil {
			m.log.Warn("releasing the key store lock failed", "err", err)
		}
	}, nil
}

// actLocked creates, extends and deletes what plan asks, under the store
// lock: lock, re-read, re-plan, act only on what is still needed, unlock.
// Software keys are generated before the lock is taken; keys of a key
// backend under it, so that no backend object is made in vain.
func (m *Manager) actLocked(ctx context.Context, plan key.Plan) error {
	pregen := make(map[key.Algorithm]key.Record)
	for _, nk := range plan.Create {
		if m.backend != nil {
			// A backend key is made under the lock, once it is known to
			// be needed: instances that lose the race make no object.
			break
		}
		r, err := m.newRecord(ctx, nk)
		if err != nil {
			return err
		}
		pregen[nk.Algorithm] = r
	}
	unlock, err := m.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	if err := m.loadLocked(ctx); err != nil {
		return err
	}
	now := m.now()
	plan = key.Compute(now, m.records, m.opts)
	wanted := make(map[key.Algorithm]bool)
	for _, nk := range plan.Create {
		wanted[nk.Algorithm] = true
		r, ok := pregen[nk.Algorithm]
		if !ok {
			r, err = m.newRecord(ctx, nk)
			if err != nil {
				return err
			}
		}
		// Re-plan times may differ from the pre-generated ones.
		r.Created, r.SignsFrom, r.RetiresAt, r.DeleteAfter = nk.Created, nk.SignsFrom, nk.RetiresAt, nk.DeleteAfter
		if err := m.store.CreateKey(ctx, r); err != nil {
			m.destroy(ctx, r, "the store refused it")
			return fmt.Errorf("keymanager: store new %s key: %w", nk.Algorithm, err)
		}
		// Logged as written (e2e/cluster times its kills by this line),
		// and with its state when published (logTransitions).
		m.log.Info("key created", "kid", r.KID, "alg", string(r.Algorithm), "created", r.Created.UTC(),
			"signs_from", r.SignsFrom.UTC(), "retires_at", r.RetiresAt.UTC(), "delete_after", r.DeleteAfter.UTC())
		if m.createdHere == nil {
			m.createdHere = make(map[string]bool)
		}
		m.createdHere[r.KID] = true
	}
	for alg, r := range pregen {
		if !wanted[alg] {
			m.log.Info("another instance already created the key; discarding ours", "alg", alg)
			m.destroy(ctx, r, "another instance created the key")
		}
	}
	for _, e := range plan.Extend {
		r, ok := m.record(e.KID)
		if !ok {
			continue
		}
		r.RetiresAt, r.DeleteAfter = e.RetiresAt, e.DeleteAfter
		if err := m.store.UpdateKey(ctx, r); err != nil {
			return fmt.Errorf("keymanager: extend key %s: %w", e.KID, err)
		}
		m.log.Warn("key kept signing past its retirement: its successor was not ready", "kid", e.KID, "alg", r.Algorithm,
			"retires_at", e.RetiresAt, "delete_after", e.DeleteAfter)
	}
	for _, kid := range plan.Delete {
		if r, ok := m.record(kid); ok {
			if err := m.destroyBackendKey(ctx, r); err != nil {
				return err
			}
		}
		if err := m.store.DeleteKey(ctx, kid); err != nil && !errors.Is(err, keystore.ErrNotFound) {
			return fmt.Errorf("keymanager: delete key %s: %w", kid, err)
		}
		// Logged with its algorithm and times when published (logTransitions).
	}
	return nil
}

func (m *Manager) record(kid string) (key.Record, bool) {
	for _, r := range m.records {
		if r.KID == kid {
			return r, true
		}
	}
	return key.Record{}, false
}
