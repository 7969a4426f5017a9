package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

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
	var names []string
	err := u.bucket.Iter(ctx, segment.PartitionPrefix(p.TopicID(), p.Partition()), func(name string) error {
		if _, perr := segment.ParseName(name); perr == nil {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("upload: gc: list: %w", err)
	}
	return u.collectPartition(ctx, keyOf(p), names, log)
}

// collectPartition deletes those of a partition's segment objects names
// that the manifest does not hold and that are older than
// Config.OrphanMinAge. The manifest is read after the listing, so an object
// committed in between counts as known.
func (u *Uploader) collectPartition(ctx context.Context, k partKey, names []string, log *slog.Logger) (int, error) {
	segs, err := u.manifest.ListSegments(ctx, k.topic, k.part)
	if err != nil {
		return 0, err
	}
	known := make(map[string]bool, len(segs))
	for _, s := range segs {
		known[s.Object] = true
	}
	cutoff := u.cfg.Now().Add(-u.cfg.OrphanMinAge)
	n := 0
	for _, name := range names {
		if known[name] {
			continue
		}
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

// collectDeleted removes a deleted topic's partition from object storage:
// its manifest entries first (one committed after the topic's deletion
// removed the others would otherwise stay forever), then every object.
func (u *Uploader) collectDeleted(ctx context.Context, k partKey, names []string, log *slog.Logger) (int, error) {
	removed, err := u.manifest.DeleteSegments(ctx, k.topic, k.part, math.MaxInt64)
	if err != nil {
		return 0, fmt.Errorf("upload: gc: manifest entries of a deleted topic: %w", err)
	}
	if len(removed) > 0 {
		log.Info("upload: removed manifest entries of a deleted topic", "entries", len(removed))
	}
	n := 0
	for _, name := range names {
		if err := u.bucket.Delete(ctx, name); err != nil && !errors.Is(err, objstore.ErrNotFound) {
			return n, fmt.Errorf("upload: gc: delete %s: %w", name, err)
		}
		n++
		u.m.orphans.Inc()
	}
	log.Info("upload: deleted the objects of a deleted topic", "objects", n)
	return n, nil
}

// Sweep garbage-collects the segment objects of every partition in the
// bucket that this uploader does not track: partitions led elsewhere or by
// nobody (their leader moved, their broker died between upload and commit,
// their topic was deleted). The per-partition loops only collect what they
// track, so without the sweep such objects would stay forever. Objects
// younger than Config.OrphanMinAge are kept (another broker's upload may be
// about to commit). Several brokers sweeping at once is harmless. It
// returns how many objects it deleted.
func (u *Uploader) Sweep(ctx context.Context) (int, error) {
	byPart := map[partKey][]string{}
	err := u.bucket.Iter(ctx, "", func(name string) error {
		if n, perr := segment.ParseName(name); perr == nil {
			k := partKey{n.TopicID, n.Partition}
			byPart[k] = append(byPart[k], name)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("upload: sweep: list: %w", err)
	}
	u.mu.Lock()
	for k := range u.parts {
		delete(byPart, k)
	}
	u.mu.Unlock()
	// Listed after the objects: an object's topic existed when it was
	// uploaded, so one missing now was deleted.
	var exists map[[16]byte]bool
	if u.cfg.Topics != nil {
		if exists, err = u.cfg.Topics(ctx); err != nil {
			return 0, fmt.Errorf("upload: sweep: list topics: %w", err)
		}
	}
	total := 0
	var errs []error
	for k, names := range byPart {
		if ctx.Err() != nil {
			break
		}
		log := u.logger.With("topic_id", fmt.Sprintf("%x", k.topic), "partition", k.part)
		if exists != nil && !exists[k.topic] {
			n, err := u.collectDeleted(ctx, k, names, log)
			total += n
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		n, err := u.collectPartition(ctx, k, names, log)
		total += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return total, fmt.Errorf("upload: sweep: %w", err)
	}
	return total, ctx.Err()
}

// sweepLoop runs Sweep every Config.SweepInterval until ctx is done.
func (u *Uploader) sweepLoop(ctx context.Context) {
	defer close(u.sweepDone)
	if u.cfg.SweepInterval < 0 {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(u.cfg.SweepInterval):
		}
		if n, err := u.Sweep(ctx); err != nil && ctx.Err() == nil {
			u.logger.Warn("upload: sweep of untracked partitions failed; retrying next interval", "err", err, "deleted", n)
		} else if n > 0 {
			u.logger.Info("upload: swept orphaned objects of untracked partitions", "deleted", n)
		}
	}
}
