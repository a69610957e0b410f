package config

import (
	"bytes"
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Entry is a client or API resource kept outside the configuration file
// (in the client registry, package clientreg): a JSON object with the
// keys of a clients[] or apiResources[] entry, secrets as hashes.
type Entry struct {
	// ID is its clientId or name.
	ID string
	// Doc is the JSON object.
	Doc []byte
}

// Entry kinds, as EntryError names them.
const (
	EntryClient      = "client"
	EntryAPIResource = "API resource"
)

// EntryError is why WithEntries left an entry out.
type EntryError struct {
	Kind string // EntryClient or EntryAPIResource
	ID   string
	Err  error
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("%s %q: %v", e.Kind, e.ID, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

// WithEntries returns a copy of c whose API resources and clients are the
// file's followed by resources and clients, each checked by the rules of
// the file (with c's signing algorithms, users and security profile);
// clients may use the scopes of the file's resources and of the added
// ones. An entry that breaks a rule, or whose id the file already
// defines (the file's entry stays; the stored one is refused), is left
// out and reported, so that one bad entry does not keep the others out.
// Errors name the entry's field as clients[ID].field or
// apiResources[ID].field, and the fix.
func (c *Config) WithEntries(resources, clients []Entry) (*Config, []*EntryError) {
	n := *c
	n.APIResources = slices.Clone(c.APIResources)
	n.Clients = slices.Clone(c.Clients)
	n.Warnings = slices.Clone(c.Warnings)
	p := &parser{src: "client registry", lines: lineIndex{byLine: map[int]string{}, byPath: map[string]int{}}}
	var problems []*EntryError
	fail := func(kind, id string, err error) {
		problems = append(problems, &EntryError{Kind: kind, ID: id, Err: err})
	}
	file := c.Source
	if file == "" {
		file = "the configuration file"
	}
	names := make(map[string]bool, len(n.APIResources))
	for _, r := range n.APIResources {
		names[r.Name] = true
	}
	for _, e := range resources {
		path := fmt.Sprintf("apiResources[%s]", e.ID)
		if names[e.ID] {
			fail(EntryAPIResource, e.ID, p.at(path, "is defined in %s, which wins: the stored one is not served; delete it from the store (signet resources delete %s) or from the file", file, e.ID))
			continue
		}
		var d apiResourceDoc
		if err := decodeEntry(e.Doc, &d); err != nil {
			fail(EntryAPIResource, e.ID, p.at(path, "%v", err))
			continue
		}
		if d.Name != e.ID {
			fail(EntryAPIResource, e.ID, p.at(path, "the record's name is %q; it must be its id", d.Name))
			continue
		}
		res, err := p.resolveAPIResource(path, d, &n)
		if err != nil {
			fail(EntryAPIResource, e.ID, err)
			continue
		}
		names[e.ID] = true
		n.APIResources = append(n.APIResources, res)
	}
	scopes, allScopes := knownScopes(&n)
	ids := make(map[string]bool, len(n.Clients))
	for _, cl := range n.Clients {
		ids[cl.ClientID] = true
	}
	subjects := make(map[string]bool, len(n.Users))
	for _, u := range n.Users {
		subjects[u.Subject] = true
	}
	for _, e := range clients {
		path := fmt.Sprintf("clients[%s]", e.ID)
		if ids[e.ID] {
			fail(EntryClient, e.ID, p.at(path, "is defined in %s, which wins: the stored one is not served; delete it from the store (signet clients delete %s) or from the file", file, e.ID))
			continue
		}
		if subjects[e.ID] {
			fail(EntryClient, e.ID, p.at(path, "%q is also the subject of a user; a client's tokens carry its clientId as sub, so they would name that user (RFC 9068 section 5): pick another client id", e.ID))
			continue
		}
		var d clientDoc
		if err := decodeEntry(e.Doc, &d); err != nil {
			fail(EntryClient, e.ID, p.at(path, "%v", err))
			continue
		}
		if d.ClientID != e.ID || !validVSChar(d.ClientID) {
			fail(EntryClient, e.ID, p.at(path, "the record's clientId is %q; it must be its id, printable ASCII", d.ClientID))
			continue
		}
		cl, err := p.resolveClient(path, d, &n, scopes, allScopes)
		if err == nil {
			// What the file checks once all clients are read.
			err = p.resolveClientConnectors(path, d.AllowedConnectors, &cl, &n)
		}
		if err == nil {
			err = p.checkClientMFA(path, &cl, &n)
		}
		if err != nil {
			fail(EntryClient, e.ID, err)
			continue
		}
		ids[e.ID] = true
		n.Clients = append(n.Clients, cl)
	}
	return &n, problems
}

// decodeEntry decodes a JSON entry (YAML's flow style) into doc, refusing
// unknown keys.
func decodeEntry(data []byte, doc any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(doc); err != nil {
		return fmt.Errorf("the stored record cannot be read: %v", err)
	}
	return nil
}
