package upload

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/strata-io/strata/metastore"
)

// errNotSynced asks the loop to re-read the manifest before going on.
var errNotSynced = errors.New("upload: manifest state must be re-read")

// run is one partition's loop: sync with the manifest, then upload, apply
// retention and collect garbage until ctx is done.
func (u *Uploader) run(ctx context.Context, t *tracked) {
	defer close(t.done)
	p := t.p
	tid := p.TopicID()
	log := u.logger.With("topic_id", hex.EncodeToString(tid[:]), "partition", p.Partition())
	synced := false
	failures := 0
	// The first retention and GC passes come one interval after tracking
	// starts, not at once: a leadership change should not stampede the store.
	nextRetention := u.cfg.Now().Add(u.cfg.RetentionInterval)
	nextGC := u.cfg.Now().Add(u.cfg.GCInterval)
	for ctx.Err() == nil {
		err := func() error {
			if !synced {
				if err := u.sync(ctx, p); err != nil {
					return err
				}
				synced = true
			}
			l := p.Log()
			if !l.Config().RemoteStorage {
				return nil
			}
			if _, err := l.RollIfIdle(u.cfg.Now(), u.cfg.IdleRollAfter); err != nil {
				return err
			}
			// Upload every sealed segment that is ready, oldest first.
			for ctx.Err() == nil {
				seg, ok := l.NextSealedSegment(l.UploadedOffset())
				if !ok || !committedThrough(p, seg.LastOffset) || u.deferUpload() {
					break
				}
				if err := u.uploadSegment(ctx, p, seg, log); err != nil {
					return err
				}
				failures = 0
			}
			now := u.cfg.Now()
			if !now.Before(nextRetention) {
				if err := u.applyRetention(ctx, p, log); err != nil {
					return err
				}
				nextRetention = now.Add(u.cfg.RetentionInterval)
			}
			if !now.Before(nextGC) {
				if _, err := u.collectGarbage(ctx, p, log); err != nil {
					return err
				}
				nextGC = now.Add(u.cfg.GCInterval)
			}
			return nil
		}()
		wait := u.cfg.PollInterval
		if err != nil && ctx.Err() == nil {
			if errors.Is(err, errNotSynced) {
				synced = false
			}
			wait = backoff(u.cfg.MinBackoff, u.cfg.MaxBackoff, failures)
			failures++
			log.Warn("upload: partition pass failed; retrying", "err", err, "failures", failures, "retry_in", wait)
		} else if err == nil {
			failures = 0
		}
		select {
		case <-ctx.Done():
		case <-t.kick:
		case <-time.After(wait):
		}
	}
}

// sync marks what the manifest already holds as uploaded, so a restarted
// broker (or a new leader) neither re-uploads nor keeps it only locally.
func (u *Uploader) sync(ctx context.Context, p Partition) error {
	segs, err := u.manifest.ListSegments(ctx, p.TopicID(), p.Partition())
	if err != nil {
		return err
	}
	if n := len(segs); n > 0 {
		p.Log().MarkUploaded(segs[n-1].LastOffset)
	}
	return nil
}

// isPermanentCommitErr reports errors a retry of the same commit cannot fix.
func isPermanentCommitErr(err error) bool {
	return errors.Is(err, metastore.ErrFenced) || errors.Is(err, metastore.ErrConflict)
}
