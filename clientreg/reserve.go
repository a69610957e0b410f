package clientreg

import (
	"context"
	"fmt"
	"slices"
)

// Reserved lists the ids the configuration file defines.
type Reserved struct {
	// File names the configuration file, for the errors.
	File      string
	Clients   []string
	Resources []string
}

// Reserve returns s refusing, with ErrReserved, to create, read, change or
// delete a client or resource whose id the configuration file defines:
// those are read-only at run time and change in the file.
func Reserve(s Store, r Reserved) Store {
	return ReserveFunc(s, func() Reserved { return r })
}

// ReserveFunc is Reserve with the ids current returns at each call: those
// of the configuration file in use, which a reload (SIGHUP) changes.
func ReserveFunc(s Store, current func() Reserved) Store {
	return &reserved{Store: s, current: current}
}

type reserved struct {
	Store
	current func() Reserved
}

func (r *reserved) check(kind, id string) error {
	res := r.current()
	list, what, key := res.Clients, "client", "clients[].clientId"
	if kind == KindResource {
		list, what, key = res.Resources, "API resource", "apiResources[].name"
	}
	if slices.Contains(list, id) {
		return fmt.Errorf("%w: %s %q is defined in %s (%s), which is read-only at run time; change it there and reload (SIGHUP), or pick another id", ErrReserved, what, id, res.File, key)
	}
	return nil
}

func (r *reserved) Client(ctx context.Context, id string) (Client, error) {
	if err := r.check(KindClient, id); err != nil {
		return Client{}, err
	}
	return r.Store.Client(ctx, id)
}

func (r *reserved) CreateClient(ctx context.Context, c Client, ch Change) (Client, error) {
	if err := r.check(KindClient, c.ClientID); err != nil {
		return Client{}, err
	}
	return r.Store.CreateClient(ctx, c, ch)
}

func (r *reserved) UpdateClient(ctx context.Context, c Client, ifRevision int64, ch Change) (Client, error) {
	if err := r.check(KindClient, c.ClientID); err != nil {
		return Client{}, err
	}
	return r.Store.UpdateClient(ctx, c, ifRevision, ch)
}

func (r *reserved) DeleteClient(ctx context.Context, id string, ifRevision int64, ch Change) error {
	if err := r.check(KindClient, id); err != nil {
		return err
	}
	return r.Store.DeleteClient(ctx, id, ifRevision, ch)
}

func (r *reserved) Resource(ctx context.Context, name string) (Resource, error) {
	if err := r.check(KindResource, name); err != nil {
		return Resource{}, err
	}
	return r.Store.Resource(ctx, name)
}

func (r *reserved) CreateResource(ctx context.Context, res Resource, ch Change) (Resource, error) {
	if err := r.check(KindResource, res.Name); err != nil {
		return Resource{}, err
	}
	return r.Store.CreateResource(ctx, res, ch)
}

func (r *reserved) UpdateResource(ctx context.Context, res Resource, ifRevision int64, ch Change) (Resource, error) {
	if err := r.check(KindResource, res.Name); err != nil {
		return Resource{}, err
	}
	return r.Store.UpdateResource(ctx, res, ifRevision, ch)
}

func (r *reserved) DeleteResource(ctx context.Context, name string, ifRevision int64, ch Change) error {
	if err := r.check(KindResource, name); err != nil {
		return err
	}
	return r.Store.DeleteResource(ctx, name, ifRevision, ch)
}
