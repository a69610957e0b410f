package server

import (
	"encoding/json"
	"net/http"
	"slices"
)

// Authentication methods (RFC 8176) the server itself records.
const (
	// AMRPassword: a password (the built-in page, LoginRequest.Complete).
	AMRPassword = "pwd"
	// AMROTP: a one-time code (TOTP, RFC 6238) or a recovery code.
	AMROTP = "otp"
	// AMRFederated: an upstream identity provider (a connector).
	AMRFederated = "fed"
	// AMRMultiFactor: more than one factor.
	AMRMultiFactor = "mfa"
)

// Authentication context classes (the acr claim) this server defines. A
// client asks for one with acr_values; discovery lists them
// (acr_values_supported).
const (
	// ACRSingleFactor: one factor (a password, or an upstream provider
	// that said nothing more).
	ACRSingleFactor = "urn:signet:acr:single-factor"
	// ACRMultiFactor: a password and a second factor (a one-time code).
	ACRMultiFactor = "urn:signet:acr:multi-factor"
)

// Authentication says how a user signed in
// ([LoginRequest.CompleteWith]): it goes into the login session and from
// there into the ID tokens (amr, acr, with auth_time, the moment of the
// sign-in).
type Authentication struct {
	// AMR are the authentication methods, RFC 8176 values: "pwd", "otp",
	// "fed", "mfa", "hwk", ... Empty means ["pwd"].
	AMR []string
	// ACR is the authentication context class; "" derives it from AMR:
	// ACRMultiFactor when AMR holds "mfa" or two of "pwd", "otp", "hwk",
	// "swk", "fed", ACRSingleFactor otherwise.
	ACR string
}

// normalized returns a with its defaults applied: AMR ["pwd"] when empty,
// the ACR derived from the AMR when empty. The slices are copies.
func (a Authentication) normalized() Authentication {
	amr := slices.Clone(a.AMR)
	if len(amr) == 0 {
		amr = []string{AMRPassword}
	}
	acr := a.ACR
	if acr == "" {
		acr = acrOf(amr)
	}
	return Authentication{AMR: amr, ACR: acr}
}

// acrOf derives the class of a sign-in from its methods.
func acrOf(amr []string) string {
	if slices.Contains(amr, AMRMultiFactor) {
		return ACRMultiFactor
	}
	n := 0
	for _, m := range amr {
		switch m {
		case AMRPassword, AMROTP, AMRHardwareKey, "swk", AMRFederated:
			n++
		}
	}
	if n >= 2 {
		return ACRMultiFactor
	}
	return ACRSingleFactor
}

// sessionData is the payload of a login session's grant: how the user
// signed in. Sessions of earlier versions have none (a password).
type sessionData struct {
	AMR []string `json:"amr,omitempty"`
	ACR string   `json:"acr,omitempty"`
}

// decodeSessionData reads a session grant's payload; an empty or
// unreadable one is a password sign-in (sessions of earlier versions).
func decodeSessionData(data []byte) Authentication {
	var d sessionData
	if len(data) > 0 {
		_ = json.Unmarshal(data, &d) // an unreadable payload: the defaults
	}
	return Authentication{AMR: d.AMR, ACR: d.ACR}.normalized()
}

// CompleteWith ends the sign-in as Complete does, recording how the user
// authenticated: auth's methods and class go into the login session and
// the ID tokens issued under it (amr, acr). Complete is CompleteWith with
// AMR ["pwd"]; an upstream identity provider's sign-in passes
// AMR ["fed"].
func (lr *LoginRequest) CompleteWith(w http.ResponseWriter, r *http.Request, subject string, auth Authentication) {
	lr.complete(w, r, subject, auth.normalized())
}

// acrValuesSupported are the classes this server can sign users in
// with (discovery acr_values_supported): the multi-factor one only with
// a second factor.
func (s *Server) acrValuesSupported() []string {
	if s.mfa == nil {
		return []string{ACRSingleFactor}
	}
	return []string{ACRSingleFactor, ACRMultiFactor}
}
