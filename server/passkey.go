package server

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/signet-id/signet/branding"
	grantstore "github.com/signet-id/signet/grant"
	"github.com/signet-id/signet/mfa"
)

// WebAuthn passkeys as a second factor: registered on the enrolment page
// beside TOTP, used on the second-factor page instead of a code. The
// ceremony's state (challenge, allowed credentials) rides in the sealed
// second-factor state (mfaPending.WA), bound to the browser by the form's
// CSRF token and expiring with it; a challenge is claimed once in the
// grant store (onceWebAuthn) before its response is checked.

// AMRHardwareKey: proof of possession of a hardware-secured key (RFC
// 8176), a WebAuthn passkey.
const AMRHardwareKey = "hwk"

// onceWebAuthn is the namespace of used WebAuthn challenges (grant.OnceID).
const onceWebAuthn = "webauthn-challenge"

// Messages of the passkey forms.
const (
	msgBadPasskey  = "Your passkey could not be verified. Try again, or use a code."
	msgNoPasskeyJS = "Using a passkey needs JavaScript in this browser. Use a code instead."
)

// passkeyScript is the pages' only script: it runs the WebAuthn ceremony
// of a form with data-webauthn (the options, JSON) and posts the result
// in its hidden field "credential". It is allowed by its hash in the
// pages' Content-Security-Policy.
const passkeyScript = `(function(){
function b64u(b){var s="",a=new Uint8Array(b);for(var i=0;i<a.length;i++)s+=String.fromCharCode(a[i]);return btoa(s).replace(/\+/g,"-").replace(/\//g,"_").replace(/=+$/,"");}
function buf(s){s=s.replace(/-/g,"+").replace(/_/g,"/");var d=atob(s),a=new Uint8Array(d.length);for(var i=0;i<d.length;i++)a[i]=d.charCodeAt(i);return a.buffer;}
document.querySelectorAll("form[data-webauthn]").forEach(function(f){
if(!window.PublicKeyCredential)return;
var b=f.querySelector("button[data-passkey]");if(b)b.disabled=false;
f.addEventListener("submit",function(ev){
if(f.elements.credential.value)return;
ev.preventDefault();
var o=JSON.parse(f.getAttribute("data-webauthn")).publicKey,create=f.getAttribute("data-ceremony")==="create";
o.challenge=buf(o.challenge);if(o.user)o.user.id=buf(o.user.id);
(o.excludeCredentials||[]).concat(o.allowCredentials||[]).forEach(function(c){c.id=buf(c.id);});
(create?navigator.credentials.create({publicKey:o}):navigator.credentials.get({publicKey:o})).then(function(c){
var r=c.response,j={id:c.id,rawId:b64u(c.rawId),type:c.type,clientExtensionResults:c.getClientExtensionResults(),response:{clientDataJSON:b64u(r.clientDataJSON)}};
if(create){j.response.attestationObject=b64u(r.attestationObject);if(r.getTransports)j.response.transports=r.getTransports();}
else{j.response.authenticatorData=b64u(r.authenticatorData);j.response.signature=b64u(r.signature);if(r.userHandle)j.response.userHandle=b64u(r.userHandle);}
f.elements.credential.value=JSON.stringify(j);f.submit();
},function(e){var m=f.querySelector("[data-passkey-error]");if(m){m.hidden=false;m.textContent="The passkey was not used ("+e.name+"). Try again, or use a code.";}});
});
});
})();`

// passkeyScriptHash is the CSP source of passkeyScript.
func passkeyScriptHash() string {
	sum := sha256.Sum256([]byte(passkeyScript))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// passkeys is the WebAuthn relying party; nil when the store keeps no
// passkeys.
type passkeys struct {
	rp    *webauthn.WebAuthn
	store mfa.PasskeyStore
}

// newPasskeys makes the relying party of issuer: RP ID its host, origin
// its origin. Nil without a passkey store, or when the issuer's host is
// an IP address (not a valid RP ID).
func newPasskeys(m *mfa.Manager, issuer, product string) (*passkeys, error) {
	if m == nil || m.Passkeys() == nil {
		return nil, nil
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("server: passkeys: %w", err)
	}
	if net.ParseIP(u.Hostname()) != nil {
		// WebAuthn binds a credential to a domain (the RP ID); an issuer on
		// an IP address has TOTP only.
		return nil, nil
	}
	rp, err := webauthn.New(&webauthn.Config{
		RPID: u.Hostname(), RPDisplayName: cmp.Or(product, branding.DefaultProductName), RPOrigins: []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementDiscouraged, UserVerification: protocol.VerificationPreferred},
	})
	if err != nil {
		return nil, fmt.Errorf("server: passkeys: %w", err)
	}
	return &passkeys{rp: rp, store: m.Passkeys()}, nil
}

// passkeyUser is a subject as go-webauthn sees it.
type passkeyUser struct {
	sub, name string
	creds     []webauthn.Credential
}

// WebAuthnID is a hash of the subject: stable, and not the subject itself.
func (u *passkeyUser) WebAuthnID() []byte {
	sum := sha256.Sum256([]byte("signet webauthn user\x00" + u.sub))
	return sum[:]
}
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (p *passkeys) user(ctx context.Context, sub, name string) (*passkeyUser, error) {
	list, err := p.store.Passkeys(ctx, sub)
	if err != nil {
		return nil, err
	}
	u := &passkeyUser{sub: sub, name: name}
	for _, k := range list {
		u.creds = append(u.creds, webauthn.Credential{ID: k.ID, PublicKey: k.PublicKey, AttestationType: k.Attestation,
			Flags:         webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(k.Flags)),
			Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount}})
	}
	return u, nil
}

// mfaEnrolled reports whether subject has a second factor: a confirmed
// TOTP secret or a passkey.
func (s *Server) mfaEnrolled(ctx context.Context, subject string) (bool, error) {
	ok, err := s.mfa.m.Enrolled(ctx, subject)
	if err != nil || ok || s.passkeys == nil {
		return ok, err
	}
	list, err := s.passkeys.store.Passkeys(ctx, subject)
	return len(list) > 0, err
}

// beginPasskey starts the ceremony the page of st offers: an assertion
// when the user has passkeys and enrolled, a registration when enrolling.
// It stores the ceremony's state in st and returns the options for the
// page ("" when there is none).
func (s *Server) beginPasskey(ctx context.Context, st *mfaPending, enrolled bool) (string, error) {
	st.WA = nil
	if s.passkeys == nil {
		return "", nil
	}
	u, err := s.passkeys.user(ctx, st.Sub, cmp.Or(st.Account, st.Sub))
	if err != nil {
		return "", err
	}
	var opts any
	var sd *webauthn.SessionData
	switch {
	case enrolled && len(u.creds) > 0:
		opts, sd, err = s.passkeys.rp.BeginLogin(u)
	case !enrolled:
		opts, sd, err = s.passkeys.rp.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	default:
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if st.WA, err = json.Marshal(sd); err != nil {
		return "", err
	}
	o, err := json.Marshal(opts)
	return string(o), err
}

// passkeyStep takes a passkey form: step "passkey" (an assertion) or
// "passkey-register" (a registration), under the login budgets.
func (s *Server) passkeyStep(w http.ResponseWriter, r *http.Request, req *authzRequest, st mfaPending, step, credential string) {
	enrolled := step == "passkey"
	if s.passkeys == nil || st.WA == nil {
		s.oidc.pages.errorPage(w, http.StatusBadRequest, "Invalid request", "The two-step verification form was not sent correctly.")
		return
	}
	if credential == "" {
		s.showSecondFactor(w, r, req, st, enrolled, http.StatusOK, msgNoPasskeyJS)
		return
	}
	ctx := r.Context()
	var sd webauthn.SessionData
	if err := json.Unmarshal(st.WA, &sd); err != nil {
		s.mfaUnavailable(w, "passkey: reading the ceremony state failed", err)
		return
	}
	check := func() error {
		now := s.now()
		err := grantstore.UseOnce(ctx, s.oidc.grants, grantstore.OnceID(onceWebAuthn, st.Sub, sd.Challenge), now, now.Add(mfaStateLifetime))
		if errors.Is(err, grantstore.ErrReplayed) {
			return fmt.Errorf("passkey challenge used before: %w", mfa.ErrReplayed)
		}
		if err != nil {
			return err
		}
		u, err := s.passkeys.user(ctx, st.Sub, cmp.Or(st.Account, st.Sub))
		if err != nil {
			return err
		}
		if enrolled {
			parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(credential))
			if err != nil {
				return fmt.Errorf("%w: %v", mfa.ErrBadCode, err)
			}
			cred, err := s.passkeys.rp.ValidateLogin(u, sd, parsed)
			if err != nil {
				return fmt.Errorf("%w: %v", mfa.ErrBadCode, err)
			}
			return s.passkeys.store.UsePasskey(ctx, st.Sub, cred.ID, cred.Authenticator.SignCount)
		}
		parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(credential))
		if err != nil {
			return fmt.Errorf("%w: %v", mfa.ErrBadCode, err)
		}
		cred, err := s.passkeys.rp.CreateCredential(u, sd, parsed)
		if err != nil {
			return fmt.Errorf("%w: %v", mfa.ErrBadCode, err)
		}
		err = s.passkeys.store.AddPasskey(ctx, mfa.Passkey{Subject: st.Sub, ID: cred.ID, PublicKey: cred.PublicKey,
			SignCount: cred.Authenticator.SignCount, Attestation: cred.AttestationType, AAGUID: cred.Authenticator.AAGUID,
			Flags: uint8(cred.Flags.ProtocolValue()), Created: s.now()})
		if errors.Is(err, mfa.ErrTooManyPasskeys) || errors.Is(err, mfa.ErrEnrolled) { // a race, or a credential id taken
			return fmt.Errorf("%w: %w", mfa.ErrBadCode, err)
		}
		return err
	}
	if !s.checkCode(w, r, req, st, enrolled, check, msgBadPasskey) {
		return
	}
	if !enrolled {
		s.log.Info("passkey registered as a second factor", "sub", st.Sub, "client_id", req.clientID)
	}
	s.signIn(w, r, req, st.Sub, secondFactorAuth(st.AMR, AMRHardwareKey))
}
