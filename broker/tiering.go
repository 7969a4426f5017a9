package broker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"time"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/tiering/remote"
	"github.com/strata-io/strata/tiering/remote/metamanifest"
	"github.com/strata-io/strata/tiering/upload"
)

// TieringConfig configures tiered storage; it is off when Bucket is nil.
type TieringConfig struct {
	Bucket objstore.Bucket
	Upload upload.Config
	Remote remote.Config // CacheDir defaults to <data-dir>/cache
}

// tiering ties the partition logs to object storage: the uploader moves
// sealed segments out, the remote reader serves offsets below the local
// log start.
type tiering struct {
	bucket objstore.Bucket
	up     *upload.Uploader
	rd     *remote.Reader
	cancel context.CancelFunc
}

func (b *Broker) startTiering(ctx context.Context) error {
	tc := b.cfg.Tiering
	if tc.Bucket == nil {
		return nil
	}
	upCfg := tc.Upload
	if upCfg.Registerer == nil {
		upCfg.Registerer = b.cfg.Registerer
	}
	rdCfg := tc.Remote
	if rdCfg.CacheDir == "" {
		rdCfg.CacheDir = filepath.Join(b.cfg.DataDir, "cache")
	}
	if upCfg.Topics == nil {
		upCfg.Topics = b.topicIDs // the sweep removes what deleted topics left
	}
	up := upload.New(upCfg, tc.Bucket, b.meta, b.log.With("component", "upload"))
	if rdCfg.Busy == nil {
		rdCfg.Busy = up.Busy // cold reads yield to busy producers
	}
	rd, err := remote.New(rdCfg, tc.Bucket, metamanifest.New(b.meta), b.log.With("component", "remote"), b.cfg.Registerer)
	if err != nil {
		up.Close()
		return fmt.Errorf("remote reader: %w", err)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := rd.Start(bg); err != nil {
		cancel()
		rd.Close()
		up.Close()
		return fmt.Errorf("remote reader: %w", err)
	}
	b.tier = &tiering{
		bucket: tc.Bucket,
		up:     up,
		rd:     rd,
		cancel: cancel,
	}
	return nil
}

// stopTiering uploads what is left (graceful shutdown: a single-node
// broker can then be replaced without losing data) and stops the workers.
func (b *Broker) stopTiering() {
	if b.tier == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := b.tier.up.Flush(ctx); err != nil {
		b.log.Warn("tiering: not every segment was uploaded before shutdown; the rest stays on local disk", "err", err)
	}
	b.tier.up.Close()
	b.tier.rd.Close()
	b.tier.cancel()
}

// tieredPartition is a partition as the uploader sees it.
type tieredPartition struct{ p *partition }

func (t tieredPartition) TopicID() [16]byte  { return t.p.t.id }
func (t tieredPartition) Partition() int32   { return t.p.id }
func (t tieredPartition) Log() *partlog.Log  { return t.p.log }
func (t tieredPartition) LeaderEpoch() int32 { return max(t.p.currentLeaderEpoch(), 0) }

// HighWatermark keeps uploads below what every in-sync replica has: a
// segment above it could hold records a next leader never received.
func (t tieredPartition) HighWatermark() int64 { return t.p.highWatermark() }
func (b *Broker) remoteEnabled(configs map[string]string) bool {
	if b.tier == nil {
		return false
	}
	v, _ := b.topicConfigValue(configs, "remote.storage.enable")
	return v == "true"
}

// attachRemote runs after a partition log is opened: a log that is empty
// on disk but has segments in the manifest (a broker whose disk was
// replaced) starts at the remote log end, and the partition is handed to
// the uploader.
func (b *Broker) attachRemote(ctx context.Context, p *partition) error {
	if b.tier == nil || !p.log.Config().RemoteStorage {
		return nil
	}
	if p.log.LogEndOffset() == 0 && p.log.LogStartOffset() == 0 {
		segs, err := b.meta.ListSegments(ctx, p.t.id, p.id)
		if err != nil {
			return fmt.Errorf("list remote segments of %s-%d: %w", p.t.name, p.id, err)
		}
		if n := len(segs); n > 0 {
			if err := p.log.ResetTo(segs[0].BaseOffset, segs[n-1].LastOffset+1); err != nil {
				return fmt.Errorf("rebuild %s-%d from object storage: %w", p.t.name, p.id, err)
			}
			b.log.Info("partition rebuilt from object storage", "topic", p.t.name, "partition", p.id,
				"log_start", segs[0].BaseOffset, "log_end", segs[n-1].LastOffset+1, "segments", n)
		}
	}
	return nil
}

// trackUpload hands a partition this broker now leads to the uploader.
func (b *Broker) trackUpload(p *partition) {
	if b.tier != nil && p.log.Config().RemoteStorage {
		b.tier.up.Track(tieredPartition{p})
	}
}

// untrackUpload stops uploading a partition this broker no longer leads.
func (b *Broker) untrackUpload(p *partition) {
	if b.tier != nil {
		b.tier.up.Untrack(tieredPartition{p})
	}
}

// detachRemote removes the manifest entries of every partition of a
// deleted topic (hosted here or not) and, after that, their objects. The
// partitions' uploads were stopped by removeTopicLocal.
func (b *Broker) detachRemote(mt metastore.Topic) {
	if b.tier == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		for id := range mt.Partitions {
			removed, err := b.meta.DeleteSegments(ctx, mt.ID, id, math.MaxInt64)
			if err != nil {
				b.log.Warn("tiering: delete manifest entries of deleted topic", "topic", mt.Name, "partition", id, "err", err)
				continue
			}
			for _, seg := range removed {
				if err := b.tier.bucket.Delete(ctx, seg.Object); err != nil && !errors.Is(err, objstore.ErrNotFound) {
					b.log.Warn("tiering: delete object of deleted topic", "object", seg.Object, "err", err)
				}
			}
		}
	}()
}

// topicIDs lists the ids of the topics in the metastore.
func (b *Broker) topicIDs(ctx context.Context) (map[[16]byte]bool, error) {
	ts, err := b.meta.ListTopics(ctx)
	if err != nil {
		return nil, err
	}
	ids := make(map[[16]byte]bool, len(ts))
	for _, t := range ts {
		ids[t.ID] = true
	}
	return ids, nil
}

// readAt reads stored batches at offset from the local log or, below the
// local log start, from object storage.
// bufs, if not nil, lends the buffer a remote read fills.
func (b *Broker) readAt(ctx context.Context, p *partition, offset int64, maxBytes int, bufs *fetchBufSet) ([]byte, error) {
	data, err := p.log.Read(offset, maxBytes)
	if !errors.Is(err, partlog.ErrOffsetNotLocal) || b.tier == nil {
		return data, err
	}
	data, err = b.tier.rd.ReadInto(ctx, p.t.id, p.id, offset, maxBytes, bufs.get(maxBytes+remoteReadSlack))
	if errors.Is(err, remote.ErrNotRemote) {
		return nil, fmt.Errorf("%w: offset %d is neither local nor remote", partlog.ErrOffsetOutOfRange, offset)
	}
	if err != nil {
		// A corrupt object is logged once, naming it, by the remote reader.
		return nil, err
	}
	// The reader stays within one segment; keep filling the budget from
	// the following segments (remote or local) so a catch-up consumer gets
	// full responses instead of one segment per round trip.
	for len(data) > 0 && len(data) < maxBytes {
		next := batchNextOffset(data)
		if next <= offset || next >= p.log.LogEndOffset() {
			break
		}
		more, err := p.log.Read(next, maxBytes-len(data))
		if errors.Is(err, partlog.ErrOffsetNotLocal) {
			more, err = b.tier.rd.Read(ctx, p.t.id, p.id, next, maxBytes-len(data))
		}
		if err != nil || len(more) == 0 || len(data)+len(more) > maxBytes {
			break // what we have is a complete answer already
		}
		data = append(data, more...)
		offset = next
	}
	return data, nil
}

// isRemoteRead reports whether a read at offset must go to object storage.
func (b *Broker) isRemoteRead(p *partition, offset int64) bool {
	return b.tier != nil && offset < p.log.LocalLogStartOffset() && offset >= p.log.LogStartOffset()
}

// remoteSegments lists the partition's committed remote segments.
func (b *Broker) remoteSegments(p *partition) []remote.Segment {
	if b.tier == nil {
		return nil
	}
	return b.tier.rd.Segments(p.t.id, p.id)
}

// acceptingProduce is false when a partition's un-uploaded backlog is over
// its bound (object storage unreachable for long).
func (b *Broker) acceptingProduce(p *partition) bool {
	return b.tier == nil || !p.log.Config().RemoteStorage || b.tier.up.Accepting(tieredPartition{p})
}

var _ upload.Manifest = (*metastore.Store)(nil)

// remoteEndOffsetForEpoch answers OffsetForLeaderEpoch from the remote
// segments' leader epochs, for a partition whose local epoch cache knows
// nothing (a broker rebuilt from object storage). Kafka's rules: the
// latest epoch ends at the log end; an older one ends where the next
// higher epoch starts; one newer than any known is undefined.
func (b *Broker) remoteEndOffsetForEpoch(p *partition, epoch int32) (int32, int64, bool) {
	segs := b.remoteSegments(p)
	if len(segs) == 0 || epoch < 0 {
		return -1, -1, false
	}
	latest := segs[len(segs)-1].LeaderEpoch
	switch {
	case epoch == latest:
		return epoch, p.log.LogEndOffset(), true
	case epoch > latest:
		return -1, -1, true
	}
	floor := int32(-1)
	for _, s := range segs {
		if s.LeaderEpoch > epoch {
			if floor < 0 {
				floor = epoch // older than anything known, as Kafka answers
			}
			return floor, s.BaseOffset, true
		}
		floor = s.LeaderEpoch
	}
	return -1, -1, true
}
