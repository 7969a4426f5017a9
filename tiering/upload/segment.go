package upload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/tiering/segment"
)

// deleteTimeout bounds the clean-up delete of an uncommitted object, which
// runs even when the loop's context is already cancelled.
const deleteTimeout = 30 * time.Second

// errSegmentGone: the local segment file was deleted before it could be
// read (DeleteRecords or remote retention moved the log start past it).
var errSegmentGone = errors.New("upload: local segment file gone")

// errNothingAbove: a segment straddling the remote log end has no batch
// starting above it.
var errNothingAbove = errors.New("upload: no batch starts above the remote log end")

// uploadSegment uploads seg as a new object, commits it to the manifest
// under p's current leader epoch and marks it uploaded. An object that does
// not make it into the manifest is deleted again (or, if that fails too,
// collected later by the GC pass).
//
// A segment straddling the remote log end (a new leader cuts its segments
// elsewhere than the previous one, whose uploads end inside ours) is
// uploaded from its first batch above the end only; see cut.
func (u *Uploader) uploadSegment(ctx context.Context, p Partition, seg partlog.SealedSegment, log *slog.Logger) error {
	epoch := p.LeaderEpoch()
	select {
	case u.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	// While produce is busy (the backlog bound forced this upload), one
	// upload at a time across the broker leaves produce the rest.
	busy := u.Busy() && u.flushing.Load() == 0
	if busy {
		select {
		case u.busySem <- struct{}{}:
		case <-ctx.Done():
			<-u.sem
			return ctx.Err()
		}
	}
	start := time.Now()
	name, foot, err := u.put(ctx, p, seg, epoch, p.Log().UploadedOffset(), log)
	if busy {
		<-u.busySem
	}
	<-u.sem
	if errors.Is(err, errSegmentGone) {
		// Deleted locally meanwhile (remote retention moved the log start).
		log.Debug("upload: segment vanished before upload", "base", seg.BaseOffset)
		return nil
	}
	if errors.Is(err, errNothingAbove) {
		// Only a batch holding the remote end is above it: the remote
		// log already covers that batch's start with the previous
		// leader's data. There is nothing uploadable; move on.
		u.m.failures.WithLabelValues("straddle").Inc()
		log.Warn("upload: segment's last batch straddles the remote log end; its offsets above the end stay local only",
			"base", seg.BaseOffset, "last", seg.LastOffset, "err", err)
		p.Log().MarkUploaded(seg.LastOffset)
		return nil
	}
	if err != nil {
		u.m.failures.WithLabelValues("upload").Inc()
		return fmt.Errorf("upload: segment %d (%s): %w", seg.BaseOffset, name, err)
	}
	u.m.latency.Observe(time.Since(start).Seconds())

	rs := metastore.RemoteSegment{
		TopicID: p.TopicID(), Partition: p.Partition(),
		BaseOffset: foot.BaseOffset, LastOffset: foot.LastOffset, LeaderEpoch: epoch,
		MaxTimestamp: foot.MaxTimestamp, Size: foot.ObjectSize(), Object: name,
	}
	if err := u.commit(ctx, rs, epoch); err != nil {
		u.discard(ctx, name, log)
		if errors.Is(err, metastore.ErrFenced) {
			u.m.failures.WithLabelValues("fenced").Inc()
			log.Warn("upload: fenced by a newer leader; object deleted", "object", name, "epoch", epoch)
		} else {
			u.m.failures.WithLabelValues("commit").Inc()
		}
		if errors.Is(err, metastore.ErrConflict) {
			// Our view of the manifest is stale (e.g. another leader
			// committed these offsets): re-read it before going on.
			err = fmt.Errorf("%w: %w", errNotSynced, err)
		}
		return fmt.Errorf("upload: commit segment %d (%s): %w", rs.BaseOffset, name, err)
	}
	p.Log().MarkUploaded(foot.LastOffset)
	u.m.uploaded.Add(float64(rs.Size))
	u.m.segments.Inc()
	log.Debug("upload: segment committed", "object", name, "base", rs.BaseOffset, "last", rs.LastOffset, "bytes", rs.Size)
	return nil
}

// put uploads the segment object: the whole segment, or, when the segment
// starts at or below uploaded (the remote log's last offset), its tail from
// the first batch above uploaded. segment.Write checks the log section and
// computes the trailer in a first pass over the file (page cache); the
// upload then sends the log section straight from the file, followed by the
// trailer, as one seekable body. It returns the object's name.
func (u *Uploader) put(ctx context.Context, p Partition, seg partlog.SealedSegment, epoch int32, uploaded int64, log *slog.Logger) (string, segment.Footer, error) {
	f, err := os.Open(seg.Path)
	if errors.Is(err, os.ErrNotExist) {
		return "", segment.Footer{}, fmt.Errorf("%w: %w", errSegmentGone, err)
	}
	if err != nil {
		return "", segment.Footer{}, err
	}
	defer f.Close()
	src, err := cut(f, seg, uploaded)
	if err != nil {
		return "", segment.Footer{}, err
	}
	if src.base != seg.BaseOffset {
		if src.base > uploaded+1 {
			u.m.failures.WithLabelValues("straddle").Inc()
			log.Warn("upload: the remote log end falls inside a local batch; uploading from the next batch leaves a gap",
				"remote_last", uploaded, "from", src.base)
		} else {
			log.Info("upload: segment straddles the remote log end; uploading its part above it",
				"base", seg.BaseOffset, "from", src.base, "last", seg.LastOffset)
		}
	}
	name := segment.Name(segment.ObjectName{
		TopicID: p.TopicID(), Partition: p.Partition(), BaseOffset: src.base,
		LeaderEpoch: epoch, ID: segment.NewID(),
	})
	tw := &trailerWriter{skip: src.size}
	foot, err := segment.Write(tw, src.log, src.size, src.offsetIndex, src.timeIndex,
		segment.Meta{BaseOffset: src.base, LeaderEpoch: epoch})
	if err != nil {
		return name, segment.Footer{}, err
	}
	body := &objectBody{log: src.log, logSize: src.size, trailer: tw.buf}
	if err := u.bucket.Upload(ctx, name, body); err != nil {
		return name, segment.Footer{}, err
	}
	return name, foot, nil
}

// commit tries the manifest commit up to CommitAttempts times; a commit
// repeated after a lost reply is accepted by the manifest as identical.
func (u *Uploader) commit(ctx context.Context, rs metastore.RemoteSegment, epoch int32) error {
	var err error
	for attempt := 0; attempt < u.cfg.CommitAttempts; attempt++ {
		if attempt > 0 {
			if serr := sleep(ctx, backoff(u.cfg.MinBackoff, u.cfg.MaxBackoff, attempt-1)); serr != nil {
				return fmt.Errorf("%w (last error: %w)", serr, err)
			}
		}
		if err = u.manifest.CommitSegment(ctx, rs, epoch); err == nil || isPermanentCommitErr(err) {
			return err
		}
	}
	return err
}

// discard deletes an uploaded object that is not (and will not be) in the
// manifest. Failures are left to the GC pass.
func (u *Uploader) discard(ctx context.Context, name string, log *slog.Logger) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if err := u.bucket.Delete(dctx, name); err != nil && !errors.Is(err, objstore.ErrNotFound) {
		log.Warn("upload: delete uncommitted object; garbage collection will retry", "object", name, "err", err)
	}
}
