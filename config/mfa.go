package config

import (
	"fmt"
	"slices"
)

// MFA is the mfa section: who must sign in with a second factor (TOTP,
// docs/users.md "Second factor"). A user who has enrolled is always asked
// for a code; clients[].requireMfa and a request for the multi-factor acr
// also make users enrol.
type MFA struct {
	// Required (mfa.required) makes every user enrol and sign in with a
	// second factor.
	Required bool
	// RequiredSubjects (mfa.requiredSubjects) are the users (subjects,
	// whatever source they come from) who must.
	RequiredSubjects []string
}

type mfaDoc struct {
	Required         *bool    `yaml:"required"`
	RequiredSubjects []string `yaml:"requiredSubjects"`
}

// resolveMFA checks the mfa section and clients[].requireMfa: a second
// factor needs the login flows and a protection secret to seal the TOTP
// secrets with.
func (p *parser) resolveMFA(d *fileDoc, c *Config) error {
	if md := d.MFA; md != nil {
		c.MFA.Required = md.Required != nil && *md.Required
		for i, sub := range md.RequiredSubjects {
			path := fmt.Sprintf("mfa.requiredSubjects[%d]", i)
			switch {
			case sub == "":
				return p.at(path, "is empty; list the subjects (sub) of the users who must use a second factor")
			case slices.Contains(md.RequiredSubjects[:i], sub):
				return p.at(path, "%q is listed twice", sub)
			}
		}
		c.MFA.RequiredSubjects = slices.Clone(md.RequiredSubjects)
	}
	for i, cl := range c.Clients {
		if err := p.checkClientMFA(fmt.Sprintf("clients[%d]", i), &cl, nil); err != nil {
			return err
		}
	}
	what := ""
	switch {
	case c.MFA.Required:
		what = "mfa.required"
	case len(c.MFA.RequiredSubjects) > 0:
		what = "mfa.requiredSubjects"
	default:
		for i, cl := range c.Clients {
			if cl.RequireMFA {
				what = fmt.Sprintf("clients[%d].requireMfa", i)
				break
			}
		}
	}
	if what == "" {
		return nil
	}
	return p.mfaReady(what, c)
}

// checkClientMFA checks a client's requireMfa (cl at path): it applies to
// sign-ins, and, with c (a stored client added to the file's
// configuration), the server must have what a second factor needs.
func (p *parser) checkClientMFA(path string, cl *Client, c *Config) error {
	if !cl.RequireMFA {
		return nil
	}
	if !slices.Contains(cl.AllowedGrantTypes, GrantAuthorizationCode) {
		return p.at(path+".requireMfa", "(%s) applies to sign-ins: the client needs authorization_code in allowedGrantTypes", cl.ClientID)
	}
	if c != nil {
		return p.mfaReady(path+".requireMfa", c)
	}
	return nil
}

// mfaReady refuses a second-factor policy (at what) that c cannot serve.
func (p *parser) mfaReady(what string, c *Config) error {
	switch {
	case c.Storage.Driver == DriverFile:
		return p.at(what, "needs the login flows, which the file store cannot keep; use storage.driver sqlite, postgres or memory")
	case !c.Protection.Enabled:
		return p.at(what, "needs keyManagement.protection.enabled: TOTP secrets are sealed at rest with the protection secrets, as private keys are")
	case c.KeyBackend.External() && len(c.Protection.Secrets) == 0:
		return p.at(what, "needs keyManagement.protection.secrets with a key backend (%s): TOTP secrets are sealed at rest with the first protection secret", c.KeyBackend.Type)
	}
	return nil
}
