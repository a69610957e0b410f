package signet

import (
	"slices"
	"time"

	"github.com/signet-id/signet/clientreg"
	"github.com/signet-id/signet/config"
)

// CheckStoredClient reports whether c would be served beside cfg (the
// merged configuration in use, RegistrySync.Merged): the file's rules,
// with the entry c replaces set aside. The admin API and dynamic
// registration call it before they store c, so that a client the server
// would refuse is answered 400 instead of stored.
func CheckStoredClient(cfg *config.Config, c clientreg.Client, now time.Time) error {
	n := *cfg
	n.Clients = slices.DeleteFunc(slices.Clone(cfg.Clients), func(x config.Client) bool { return x.ClientID == c.ClientID })
	_, refused, _ := StoredRecords{Clients: []clientreg.Client{c}}.Merge(&n, now)
	if len(refused) > 0 {
		return refused[0]
	}
	return nil
}

// CheckStoredResource is CheckStoredClient for an API resource.
func CheckStoredResource(cfg *config.Config, r clientreg.Resource, now time.Time) error {
	n := *cfg
	n.APIResources = slices.DeleteFunc(slices.Clone(cfg.APIResources), func(x config.APIResource) bool { return x.Name == r.Name })
	_, refused, _ := StoredRecords{Resources: []clientreg.Resource{r}}.Merge(&n, now)
	if len(refused) > 0 {
		return refused[0]
	}
	return nil
}
