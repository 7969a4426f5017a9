package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/tiering/segment"
)

// collectGarbage deletes the partition's segment objects that the manifest
// does not hold and that are older than Config.OrphanMinAge: uploads whose
// commit never happened (crash, fencing with a failed delete) and objects
// whose retention delete failed. Younger ones may belong to an upload about
// to commit. Objects under the prefix that are not segment objects are left
// alone. It returns how many objects it deleted.
func (u *Uploader) collectGarbage(ctx context.Context, p Partition, log *slog.Logger) (int, error) {
	segs, err := u.manifest.ListSegments(ctx, p.TopicID(), p.Partition())
	if err != nil {
		return 0, err
	}
	known := make(map[string]bool, len(segs))
	for _, s := range segs {
		known[s.Object] = true
	}
	var candidates []string
	err = u.bucket.Iter(ctx, segment.PartitionPrefix(p.TopicID(), p.Partition()), func(name string) error {
		if _, perr := segment.ParseName(name); perr == nil && !known[name] {
			candidates = append(candidates, name)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("upload: gc: list: %w", err)
	}
	cutoff := u.cfg.Now().Add(-u.cfg.OrphanMinAge)
	n := 0
	for _, name := range candidates {
		attrs, err := u.bucket.Attributes(ctx, name)
		if errors.Is(err, objstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("upload: gc: attributes of %s: %w", name, err)
		}
		if attrs.LastModified.After(cutoff) {
			continue
		}
		if err := u.bucket.Delete(ctx, name); err != nil && !errors.Is(err, objstore.ErrNotFound) {
			return n, fmt.Errorf("upload: gc: delete %s: %w", name, err)
		}
		n++
		u.m.orphans.Inc()
		log.Info("upload: deleted orphaned object", "object", name, "modified", attrs.LastModified)
	}
	return n, nil
}
