package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/strata-io/strata/objstore"
)

// applyRetention enforces the partition's total retention on the remote
// side: remote segments wholly below the log start (DeleteRecords), past
// retention.ms by max timestamp, or that retention.bytes (remote plus
// un-uploaded local bytes) allows dropping go, oldest first. Order: the
// manifest entries first (one transaction), then the objects (a failed
// delete leaves an orphan the GC pass removes), then the local log start.
func (u *Uploader) applyRetention(ctx context.Context, p Partition, log *slog.Logger) error {
	l := p.Log()
	cfg := l.Config()
	segs, err := u.manifest.ListSegments(ctx, p.TopicID(), p.Partition())
	if err != nil || len(segs) == 0 {
		return err
	}
	logStart := l.LogStartOffset()
	nowMs := u.cfg.Now().UnixMilli()
	total := l.UnuploadedBytes()
	for _, s := range segs {
		total += s.Size
	}
	upto := int64(-1)
	for _, s := range segs {
		belowStart := s.LastOffset < logStart
		byTime := cfg.RetentionMs >= 0 && s.MaxTimestamp < nowMs-cfg.RetentionMs
		byBytes := cfg.RetentionBytes >= 0 && total-s.Size >= cfg.RetentionBytes
		if !belowStart && !byTime && !byBytes {
			break
		}
		total -= s.Size
		upto = s.LastOffset + 1
	}
	if upto < 0 {
		return nil
	}
	removed, err := u.manifest.DeleteSegments(ctx, p.TopicID(), p.Partition(), upto)
	if err != nil {
		return fmt.Errorf("upload: retention: delete manifest entries below %d: %w", upto, err)
	}
	u.m.deleted.Add(float64(len(removed)))
	for _, s := range removed {
		if err := u.bucket.Delete(ctx, s.Object); err != nil && !errors.Is(err, objstore.ErrNotFound) {
			log.Warn("upload: retention: delete object; garbage collection will retry", "object", s.Object, "err", err)
		}
	}
	if upto > logStart {
		if err := l.AdvanceLogStart(upto); err != nil {
			return fmt.Errorf("upload: retention: advance log start to %d: %w", upto, err)
		}
	}
	log.Info("upload: remote retention", "segments", len(removed), "log_start", upto)
	return nil
}
