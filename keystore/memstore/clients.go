package memstore

import "github.com/signet-id/signet/clientreg"

var _ clientreg.Provider = (*Store)(nil)

// ClientRegistry returns the client registry kept with the store, in
// memory (clientreg.NewMemory).
func (s *Store) ClientRegistry() clientreg.Store { return s.registry }
