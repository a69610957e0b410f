package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/signet-id/signet/keybackend"
)

// resolveKeyBackend reads keyManagement.keyBackend (and its previous):
// the fields each type needs, and whether the backend can make every
// configured signing algorithm.
func (p *parser) resolveKeyBackend(d *fileDoc, c *Config) error {
	var doc *keyBackendDoc
	if d.KeyManagement != nil {
		doc = d.KeyManagement.KeyBackend
	}
	c.KeyBackend = keybackend.Config{Type: keybackend.Software}
	if doc == nil {
		return nil
	}
	kb, err := p.keyBackend("keyManagement.keyBackend", doc, c.Issuer)
	if err != nil {
		return err
	}
	if c.KeyManagement.Enabled {
		for i, a := range c.KeyManagement.SigningAlgorithms {
			if err := keybackend.Supports(kb.Type, a.Algorithm, c.KeyManagement.RSAKeySize); err != nil {
				return p.at(fmt.Sprintf("keyManagement.signingAlgorithms[%d]", i), "%s", strings.TrimPrefix(err.Error(), keybackend.ErrUnsupported.Error()+": "))
			}
		}
	}
	c.KeyBackend = kb
	if doc.Previous != nil {
		if doc.Previous.Previous != nil {
			return p.at("keyManagement.keyBackend.previous.previous", "only one previous backend is kept; once the keys of the oldest are deleted (signet keys list shows each key's backend), remove it")
		}
		prev, err := p.keyBackend("keyManagement.keyBackend.previous", doc.Previous, c.Issuer)
		if err != nil {
			return err
		}
		if prev.Type == kb.Type {
			return p.at("keyManagement.keyBackend.previous.type", "is %s, as keyBackend.type is; previous names the backend used before the change (pkcs11, awskms), for the keys it still holds", prev.Type)
		}
		if prev.External() {
			c.PreviousKeyBackend = &prev
		}
	}
	return nil
}

func (p *parser) keyBackend(path string, doc *keyBackendDoc, issuer string) (keybackend.Config, error) {
	kb := keybackend.Config{
		Type: doc.Type, Module: p.path(doc.Module), TokenLabel: doc.TokenLabel, Pin: doc.Pin,
		Region: doc.Region, Endpoint: doc.Endpoint, Issuer: issuer,
	}
	if kb.Type == "" {
		kb.Type = keybackend.Software
	}
	if doc.SignTimeout != nil {
		kb.SignTimeout = time.Duration(*doc.SignTimeout)
		if kb.SignTimeout <= 0 {
			return kb, p.at(path+".signTimeout", "must be positive, e.g. 2s")
		}
	}
	required := func(field, value, hint string) error {
		if value == "" {
			return p.at(path+"."+field, "is required with type %s (%s)", kb.Type, hint)
		}
		return nil
	}
	var err error
	switch kb.Type {
	case keybackend.Software:
		if doc.Module != "" || doc.TokenLabel != "" || doc.Pin != "" || doc.Region != "" || doc.Endpoint != "" {
			return kb, p.at(path+".type", "is software, which uses none of module, tokenLabel, pin, region, endpoint; set type: pkcs11 or awskms, or remove them")
		}
	case keybackend.PKCS11:
		if err = required("module", kb.Module, "the PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so"); err != nil {
			break
		}
		if err = required("tokenLabel", kb.TokenLabel, "the label given when the token was initialised"); err != nil {
			break
		}
		err = required("pin", kb.Pin, "the user PIN, e.g. pin: ${SIGNET_HSM_PIN}")
	case keybackend.AWSKMS:
		err = required("region", kb.Region, "e.g. region: eu-west-1")
		if err == nil && kb.Endpoint != "" {
			if u, perr := url.Parse(kb.Endpoint); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				err = p.at(path+".endpoint", "%q is not an http(s) URL; give the KMS-compatible endpoint, e.g. https://kms.eu-west-1.amazonaws.com, or remove it for the region's own", kb.Endpoint)
			}
		}
	default:
		return kb, p.at(path+".type", "%q is unknown; allowed values are software, pkcs11, awskms", kb.Type)
	}
	if err != nil {
		return kb, err
	}
	if err := kb.Validate(); err != nil {
		return kb, p.at(path, "%v", err)
	}
	return kb, nil
}
