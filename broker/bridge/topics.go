package bridge

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type replicaJSON struct {
	Broker int32 `json:"broker"`
	Leader bool  `json:"leader"`
	InSync bool  `json:"in_sync"`
}

type partitionJSON struct {
	Partition int32         `json:"partition"`
	Leader    int32         `json:"leader"`
	Replicas  []replicaJSON `json:"replicas"`
}

type topicJSON struct {
	Name       string            `json:"name"`
	Configs    map[string]string `json:"configs,omitempty"`
	Partitions []partitionJSON   `json:"partitions"`
}

type offsetsJSON struct {
	BeginningOffset int64 `json:"beginning_offset"`
	EndOffset       int64 `json:"end_offset"`
}

// unavailable wraps a failure to reach the cluster as a 503.
func unavailable(err error) *httpError {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errorf(http.StatusServiceUnavailable, "Kafka cluster did not answer in time: %v", err)
	}
	return errorf(http.StatusServiceUnavailable, "Kafka cluster unavailable: %v", err)
}

// topicError maps a Kafka topic-level error code to an HTTP error.
func topicError(topic string, code int16) error {
	err := kerr.ErrorForCode(code)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return errorf(http.StatusNotFound, "topic %q not found", topic)
	case errors.Is(err, kerr.InvalidTopicException):
		return errorf(http.StatusUnprocessableEntity, "invalid topic name %q", topic)
	case errors.Is(err, kerr.TopicAuthorizationFailed):
		return errorf(http.StatusForbidden, "not authorized for topic %q", topic)
	}
	return errorf(http.StatusInternalServerError, "topic %q: %v", topic, err)
}

// metadata asks the cluster (bypassing client caches, never auto-creating)
// about the given topics, or all topics if none are named.
func (b *Bridge) metadata(ctx context.Context, topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false
	if len(topics) > 0 {
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	resp, err := req.RequestWith(ctx, b.producer)
	if err != nil {
		return nil, unavailable(err)
	}
	return resp, nil
}

// topicMeta returns one topic's metadata, or a 404 if it does not exist.
func (b *Bridge) topicMeta(ctx context.Context, topic string) (*kmsg.MetadataResponseTopic, error) {
	resp, err := b.metadata(ctx, topic)
	if err != nil {
		return nil, err
	}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := topicError(topic, t.ErrorCode); err != nil {
			return nil, err
		}
		sort.Slice(t.Partitions, func(a, c int) bool { return t.Partitions[a].Partition < t.Partitions[c].Partition })
		return t, nil
	}
	return nil, errorf(http.StatusNotFound, "topic %q not found", topic)
}

func partitionOf(p *kmsg.MetadataResponseTopicPartition) partitionJSON {
	out := partitionJSON{Partition: p.Partition, Leader: p.Leader, Replicas: []replicaJSON{}}
	for _, r := range p.Replicas {
		out.Replicas = append(out.Replicas, replicaJSON{
			Broker: r, Leader: r == p.Leader, InSync: slices.Contains(p.ISR, r),
		})
	}
	return out
}

// pathPartition parses {partition} and checks it exists in t (404 if not).
func pathPartition(r *http.Request, t *kmsg.MetadataResponseTopic) (*kmsg.MetadataResponseTopicPartition, error) {
	s := r.PathValue("partition")
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return nil, errorf(http.StatusUnprocessableEntity, "partition %q is not a non-negative integer", s)
	}
	for i := range t.Partitions {
		if t.Partitions[i].Partition == int32(n) {
			return &t.Partitions[i], nil
		}
	}
	return nil, errorf(http.StatusNotFound, "partition %d of topic %q not found", n, *t.Topic)
}

func (b *Bridge) listTopics(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := requestCtx(r)
	defer cancel()
	resp, err := b.metadata(ctx)
	if err != nil {
		writeError(w, err)
		return
	}
	names := []string{}
	for _, t := range resp.Topics {
		if t.Topic != nil && !t.IsInternal && t.ErrorCode == 0 {
			names = append(names, *t.Topic)
		}
	}
	sort.Strings(names)
	writeJSON(w, http.StatusOK, contentTypeV2, names)
}

func (b *Bridge) getTopic(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := requestCtx(r)
	defer cancel()
	name := r.PathValue("topic")
	t, err := b.topicMeta(ctx, name)
	if err != nil {
		writeError(w, err)
		return
	}
	out := topicJSON{Name: name, Partitions: []partitionJSON{}}
	for i := range t.Partitions {
		out.Partitions = append(out.Partitions, partitionOf(&t.Partitions[i]))
	}
	configs, err := b.admin.DescribeTopicConfigs(ctx, name)
	if err == nil {
		if rc, err := configs.On(name, nil); err == nil && rc.Err == nil {
			out.Configs = make(map[string]string, len(rc.Configs))
			for _, c := range rc.Configs {
				if c.Value != nil {
					out.Configs[c.Key] = *c.Value
				}
			}
		}
	}
	if err != nil {
		b.log.Debug("describe topic configs", "topic", name, "err", err)
	}
	writeJSON(w, http.StatusOK, contentTypeV2, out)
}

func (b *Bridge) listPartitions(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := requestCtx(r)
	defer cancel()
	t, err := b.topicMeta(ctx, r.PathValue("topic"))
	if err != nil {
		writeError(w, err)
		return
	}
	out := []partitionJSON{}
	for i := range t.Partitions {
		out = append(out, partitionOf(&t.Partitions[i]))
	}
	writeJSON(w, http.StatusOK, contentTypeV2, out)
}

func (b *Bridge) getPartition(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := requestCtx(r)
	defer cancel()
	t, err := b.topicMeta(ctx, r.PathValue("topic"))
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := pathPartition(r, t)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, contentTypeV2, partitionOf(p))
}

func (b *Bridge) partitionOffsets(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := requestCtx(r)
	defer cancel()
	name := r.PathValue("topic")
	t, err := b.topicMeta(ctx, name)
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := pathPartition(r, t)
	if err != nil {
		writeError(w, err)
		return
	}
	start, err := b.listOffset(ctx, name, p.Partition, -2)
	if err != nil {
		writeError(w, err)
		return
	}
	end, err := b.listOffset(ctx, name, p.Partition, -1)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, contentTypeV2, offsetsJSON{BeginningOffset: start, EndOffset: end})
}

// listOffset asks the partition's leader for its log start (ts -2) or high
// watermark (ts -1).
func (b *Bridge) listOffset(ctx context.Context, topic string, partition int32, ts int64) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition = partition
	rp.Timestamp = ts
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, b.producer)
	if err != nil {
		return 0, unavailable(err)
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.Partition != partition {
				continue
			}
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				if errors.Is(err, kerr.UnknownTopicOrPartition) {
					return 0, errorf(http.StatusNotFound, "partition %d of topic %q not found", partition, topic)
				}
				return 0, errorf(http.StatusInternalServerError, "list offsets of %s/%d: %v", topic, partition, err)
			}
			return p.Offset, nil
		}
	}
	return 0, errorf(http.StatusInternalServerError, "list offsets of %s/%d: partition missing from response", topic, partition)
}
