package harness

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// WipeData deletes everything in a stopped broker's data directory except
// the harness's own log file (so the log keeps the history across the
// wipe): the broker restarts as if on a fresh disk. With an external
// metastore (a cluster) that is everything the broker keeps locally.
func (b *Broker) WipeData() error {
	if b.Running() {
		return errors.New("harness: wipe the data directory of a running broker")
	}
	entries, err := os.ReadDir(b.DataDir)
	if err != nil {
		return fmt.Errorf("harness: read data dir: %w", err)
	}
	for _, e := range entries {
		if e.Name() == LogFileName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(b.DataDir, e.Name())); err != nil {
			return fmt.Errorf("harness: wipe %s: %w", e.Name(), err)
		}
	}
	return nil
}
