package keymanager

import "context"

// Load reads the store and publishes a snapshot without acting on the
// plan: no key is created, extended or deleted and no migration timestamp
// is written. It is for read-only views of a store that a server (or
// nothing) manages, like `signet keys list`; after it, Keys, JWKS, Plan
// and Ready describe the store as it is. A running server uses Start.
func (m *Manager) Load(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	err := m.loadLocked(ctx)
	m.publishLocked()
	return err
}
