package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// instanceConfig is a consumer instance's validated options.
type instanceConfig struct {
	format          format
	autoOffsetReset string // earliest, latest or none
	autoCommit      bool
	fetchMinBytes   int32
	requestTimeout  time.Duration // consumer.request.timeout.ms: longest poll
	readCommitted   bool
}

// instance is one HTTP consumer instance. Requests on it are serialized by
// mu; its kgo client exists while it is subscribed.
type instance struct {
	b       *Bridge
	key     instanceKey
	cfg     instanceConfig
	baseURI string

	lastUsed atomic.Int64 // unix nanos of the last request's start or end
	inUse    atomic.Int32 // requests in flight; guarded by Bridge.mu for expiry

	mu           sync.Mutex // serializes requests
	closed       bool
	client       *kgo.Client
	topics       []string // subscription (topics, or one regex)
	topicPattern string

	// state is shared with the kgo client's rebalance callbacks.
	stateMu  sync.Mutex
	buffered []*kgo.Record                        // polled, not yet returned
	consumed map[string]map[int32]kgo.EpochOffset // next offsets after records returned, not yet committed
	assigned map[string]map[int32]bool
}

func (in *instance) touch() { in.lastUsed.Store(time.Now().UnixNano()) }

func (in *instance) lastUsedTime() time.Time { return time.Unix(0, in.lastUsed.Load()) }

// lock takes the request lock, failing with 404 once the instance is closed.
func (in *instance) lock() error {
	in.mu.Lock()
	if in.closed {
		in.mu.Unlock()
		return errorf(http.StatusNotFound, "consumer instance %q not found in group %q", in.key.name, in.key.group)
	}
	return nil
}

// close commits consumed offsets if auto-commit is on, leaves the group and
// marks the instance closed.
func (in *instance) close(ctx context.Context) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed {
		return
	}
	in.closed = true
	in.stopClient(ctx)
}

// stopClient ends the current subscription (mu held).
func (in *instance) stopClient(ctx context.Context) {
	if in.client == nil {
		return
	}
	if in.cfg.autoCommit {
		ctx, cancel := context.WithTimeout(ctx, DefaultRequestTimeout)
		if err := in.commitConsumed(ctx); err != nil {
			in.b.log.Warn("auto-commit on close failed", "group", in.key.group, "name", in.key.name, "err", err)
		}
		cancel()
	}
	in.client.Close()
	in.client = nil
	in.topics, in.topicPattern = nil, ""
	in.stateMu.Lock()
	in.buffered, in.consumed, in.assigned = nil, nil, nil
	in.stateMu.Unlock()
}

// startClient subscribes a new group member to topics (or a regex).
func (in *instance) startClient(topics []string, pattern string) error {
	reset := kgo.NewOffset().AtEnd()
	switch in.cfg.autoOffsetReset {
	case "earliest":
		reset = kgo.NewOffset().AtStart()
	case "none":
		reset = kgo.NoResetOffset()
	}
	iso := kgo.ReadUncommitted()
	if in.cfg.readCommitted {
		iso = kgo.ReadCommitted()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(in.b.cfg.Brokers...),
		kgo.ClientID("strata-bridge-" + in.key.name),
		kgo.ConsumerGroup(in.key.group),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(reset),
		kgo.FetchMinBytes(in.cfg.fetchMinBytes),
		kgo.FetchIsolationLevel(iso),
		kgo.OnPartitionsAssigned(in.onAssigned),
		kgo.OnPartitionsRevoked(in.onRevoked),
		kgo.OnPartitionsLost(in.onLost),
	}
	if pattern != "" {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(pattern))
	} else {
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	opts = append(opts, in.b.cfg.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "consumer client: %v", err)
	}
	in.client = cl
	in.topics, in.topicPattern = topics, pattern
	in.stateMu.Lock()
	in.buffered = nil
	in.consumed = make(map[string]map[int32]kgo.EpochOffset)
	in.assigned = make(map[string]map[int32]bool)
	in.stateMu.Unlock()
	return nil
}

func (in *instance) onAssigned(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	in.stateMu.Lock()
	defer in.stateMu.Unlock()
	if in.assigned == nil {
		return
	}
	for t, ps := range parts {
		if in.assigned[t] == nil {
			in.assigned[t] = make(map[int32]bool)
		}
		for _, p := range ps {
			in.assigned[t][p] = true
		}
	}
}

// onRevoked commits what was consumed from the revoked partitions (with
// auto-commit) and forgets them.
func (in *instance) onRevoked(ctx context.Context, cl *kgo.Client, parts map[string][]int32) {
	if in.cfg.autoCommit {
		in.stateMu.Lock()
		commit := make(map[string]map[int32]kgo.EpochOffset)
		for t, ps := range parts {
			for _, p := range ps {
				if eo, ok := in.consumed[t][p]; ok {
					if commit[t] == nil {
						commit[t] = make(map[int32]kgo.EpochOffset)
					}
					commit[t][p] = eo
				}
			}
		}
		in.stateMu.Unlock()
		if len(commit) > 0 {
			cl.CommitOffsetsSync(ctx, commit, nil)
		}
	}
	in.forget(parts)
}

func (in *instance) onLost(_ context.Context, _ *kgo.Client, parts map[string][]int32) {
	in.forget(parts)
}

// forget drops buffered records, consumed offsets and assignment of parts.
func (in *instance) forget(parts map[string][]int32) {
	in.stateMu.Lock()
	defer in.stateMu.Unlock()
	drop := func(t string, p int32) bool {
		for _, q := range parts[t] {
			if q == p {
				return true
			}
		}
		return false
	}
	kept := in.buffered[:0]
	for _, r := range in.buffered {
		if !drop(r.Topic, r.Partition) {
			kept = append(kept, r)
		}
	}
	clear(in.buffered[len(kept):])
	in.buffered = kept
	for t, ps := range parts {
		for _, p := range ps {
			delete(in.consumed[t], p)
			delete(in.assigned[t], p)
		}
	}
}

// isAssigned reports whether topic/partition is assigned to this member.
func (in *instance) isAssigned(topic string, partition int32) bool {
	in.stateMu.Lock()
	defer in.stateMu.Unlock()
	return in.assigned[topic][partition]
}

// assignment returns the assigned partitions, sorted.
func (in *instance) assignment() map[string][]int32 {
	in.stateMu.Lock()
	defer in.stateMu.Unlock()
	out := make(map[string][]int32, len(in.assigned))
	for t, ps := range in.assigned {
		for p := range ps {
			out[t] = append(out[t], p)
		}
		sort.Slice(out[t], func(i, j int) bool { return out[t][i] < out[t][j] })
	}
	return out
}

// poll returns records, buffering any that do not fit in maxBytes of
// response for the next poll (mu held). The caller renders them.
func (in *instance) poll(ctx context.Context, timeout time.Duration, maxBytes int) ([]consumerRecordJSON, error) {
	if in.client == nil {
		return nil, errorf(http.StatusConflict, "consumer instance %q is not subscribed to any topic", in.key.name)
	}
	if in.cfg.autoCommit {
		if err := in.commitConsumed(ctx); err != nil {
			in.b.log.Warn("auto-commit failed", "group", in.key.group, "name", in.key.name, "err", err)
		}
	}
	in.stateMu.Lock()
	empty := len(in.buffered) == 0
	in.stateMu.Unlock()
	if empty {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		fetches := in.client.PollRecords(pctx, 1000)
		cancel()
		var errs []error
		fetches.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			errs = append(errs, fmt.Errorf("%s/%d: %w", t, p, err))
		})
		in.stateMu.Lock()
		for _, r := range fetches.Records() {
			// Records come only from assigned partitions; the assigned
			// callback may not have run yet when the first ones arrive.
			if in.assigned[r.Topic] == nil {
				in.assigned[r.Topic] = make(map[int32]bool)
			}
			in.assigned[r.Topic][r.Partition] = true
			in.buffered = append(in.buffered, r)
		}
		empty = len(in.buffered) == 0
		in.stateMu.Unlock()
		in.client.AllowRebalance()
		if empty && len(errs) > 0 {
			if errors.Is(errs[0], kgo.ErrClientClosed) {
				return nil, errorf(http.StatusNotFound, "consumer instance %q was closed", in.key.name)
			}
			return nil, errorf(http.StatusInternalServerError, "polling: %v", errors.Join(errs...))
		}
		for _, err := range errs {
			in.b.log.Warn("poll error", "group", in.key.group, "name", in.key.name, "err", err)
		}
	}

	in.stateMu.Lock()
	defer in.stateMu.Unlock()
	out := []consumerRecordJSON{}
	size := 2 // []
	n := 0
	for _, r := range in.buffered {
		jr := renderRecord(in.cfg.format, r)
		sz := jr.size() + 1
		if size+sz > maxBytes {
			break
		}
		size += sz
		out = append(out, jr)
		n++
		if in.consumed[r.Topic] == nil {
			in.consumed[r.Topic] = make(map[int32]kgo.EpochOffset)
		}
		in.consumed[r.Topic][r.Partition] = kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
	}
	if n == 0 && len(in.buffered) > 0 {
		return nil, errorf(http.StatusUnprocessableEntity,
			"the next record (%s/%d@%d) does not fit in max_bytes %d", in.buffered[0].Topic, in.buffered[0].Partition, in.buffered[0].Offset, maxBytes)
	}
	clear(in.buffered[:n])
	in.buffered = in.buffered[n:]
	in.b.metrics.consumed.Add(float64(n))
	return out, nil
}

// commitConsumed commits the offsets after every record returned so far
// (mu held).
func (in *instance) commitConsumed(ctx context.Context) error {
	if in.client == nil {
		return nil
	}
	in.stateMu.Lock()
	commit := make(map[string]map[int32]kgo.EpochOffset, len(in.consumed))
	for t, ps := range in.consumed {
		if len(ps) == 0 {
			continue
		}
		commit[t] = make(map[int32]kgo.EpochOffset, len(ps))
		for p, eo := range ps {
			commit[t][p] = eo
		}
	}
	in.stateMu.Unlock()
	if len(commit) == 0 {
		return nil
	}
	if err := in.commit(ctx, commit); err != nil {
		return err
	}
	in.stateMu.Lock()
	for t, ps := range commit {
		for p, eo := range ps {
			if in.consumed[t][p] == eo {
				delete(in.consumed[t], p)
			}
		}
	}
	in.stateMu.Unlock()
	return nil
}

// commit commits offsets as this group member, or, before the instance
// subscribes, as an admin commit to the group (accepted while the group has
// no active members).
func (in *instance) commit(ctx context.Context, offsets map[string]map[int32]kgo.EpochOffset) error {
	var resp *kmsg.OffsetCommitResponse
	var reqErr error
	if in.client != nil {
		in.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, r *kmsg.OffsetCommitResponse, err error) {
			resp, reqErr = r, err
		})
	} else {
		req := kmsg.NewPtrOffsetCommitRequest()
		req.Group = in.key.group
		req.Generation = -1
		for t, ps := range offsets {
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = t
			for p, eo := range ps {
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Partition = p
				rp.Offset = eo.Offset
				rp.LeaderEpoch = eo.Epoch
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		resp, reqErr = req.RequestWith(ctx, in.b.producer)
	}
	if reqErr != nil {
		return commitError(reqErr)
	}
	if resp == nil {
		return nil
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return commitError(fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, err))
			}
		}
	}
	return nil
}

// commitError maps a commit failure to an HTTP error.
func commitError(err error) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return errorf(http.StatusNotFound, "commit: %v", err)
	case errors.Is(err, kerr.RebalanceInProgress), errors.Is(err, kerr.IllegalGeneration),
		errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
		return errorf(http.StatusConflict, "commit rejected by the group coordinator (the group is rebalancing or this member left it): %v", err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return unavailable(err)
	}
	return errorf(http.StatusInternalServerError, "commit: %v", err)
}

// seek moves the fetch positions of assigned partitions (mu held).
func (in *instance) seek(offsets map[string]map[int32]kgo.EpochOffset) error {
	if in.client == nil {
		return errorf(http.StatusConflict, "consumer instance %q is not subscribed to any topic", in.key.name)
	}
	parts := make(map[string][]int32)
	for t, ps := range offsets {
		for p := range ps {
			if !in.isAssigned(t, p) {
				return errorf(http.StatusConflict, "partition %s/%d is not assigned to consumer instance %q (poll first, after subscribing)", t, p, in.key.name)
			}
			parts[t] = append(parts[t], p)
		}
	}
	in.client.SetOffsets(offsets)
	// Records already fetched from those partitions are now stale.
	in.stateMu.Lock()
	kept := in.buffered[:0]
	for _, r := range in.buffered {
		if _, moved := offsets[r.Topic][r.Partition]; !moved {
			kept = append(kept, r)
		}
	}
	clear(in.buffered[len(kept):])
	in.buffered = kept
	in.stateMu.Unlock()
	return nil
}
