package bridge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// consumerRecordJSON is one record in a records response.
type consumerRecordJSON struct {
	Topic     string          `json:"topic"`
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Partition int32           `json:"partition"`
	Offset    int64           `json:"offset"`
	Timestamp int64           `json:"timestamp"`
	Headers   []headerJSON    `json:"headers,omitempty"`
}

func renderRecord(f format, r *kgo.Record) consumerRecordJSON {
	out := consumerRecordJSON{
		Topic:     r.Topic,
		Key:       encodeData(f, r.Key),
		Value:     encodeData(f, r.Value),
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
	}
	for _, h := range r.Headers {
		out.Headers = append(out.Headers, headerJSON{Key: h.Key, Value: base64.StdEncoding.EncodeToString(h.Value)})
	}
	return out
}

// size is the length of the record's JSON encoding.
func (r consumerRecordJSON) size() int {
	b, _ := json.Marshal(r)
	return len(b)
}

type subscriptionJSON struct {
	Topics       []string `json:"topics,omitempty"`
	TopicPattern string   `json:"topic_pattern,omitempty"`
}

type subscriptionStateJSON struct {
	Topics     []string             `json:"topics"`
	Partitions []map[string][]int32 `json:"partitions"`
}

type topicPartitionJSON struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

type partitionsJSON struct {
	Partitions []topicPartitionJSON `json:"partitions"`
}

type topicPartitionOffsetJSON struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Metadata  string `json:"metadata,omitempty"`
}

type offsetsRequestJSON struct {
	Offsets []topicPartitionOffsetJSON `json:"offsets"`
}

// withInstance runs fn with the request's instance acquired and locked.
func (b *Bridge) withInstance(w http.ResponseWriter, r *http.Request, fn func(*instance) error) {
	in, err := b.acquire(r)
	if err != nil {
		writeError(w, err)
		return
	}
	defer in.release()
	if err := in.lock(); err != nil {
		writeError(w, err)
		return
	}
	defer in.mu.Unlock()
	if err := fn(in); err != nil {
		writeError(w, err)
	}
}

func (b *Bridge) subscribe(w http.ResponseWriter, r *http.Request) {
	var req subscriptionJSON
	if err := b.readJSON(w, r, &req, false); err != nil {
		writeError(w, err)
		return
	}
	switch {
	case len(req.Topics) > 0 && req.TopicPattern != "":
		writeError(w, errorf(http.StatusConflict, "subscribe to topics or to a topic_pattern, not both"))
		return
	case len(req.Topics) == 0 && req.TopicPattern == "":
		writeError(w, errorf(http.StatusUnprocessableEntity, "no topics or topic_pattern to subscribe to"))
		return
	}
	if req.TopicPattern != "" {
		if _, err := regexp.Compile(req.TopicPattern); err != nil {
			writeError(w, errorf(http.StatusUnprocessableEntity, "topic_pattern: %v", err))
			return
		}
	}
	ctx, cancel := requestCtx(r)
	defer cancel()
	for _, t := range req.Topics {
		if _, err := b.topicMeta(ctx, t); err != nil {
			writeError(w, err)
			return
		}
	}
	b.withInstance(w, r, func(in *instance) error {
		in.stopClient(ctx)
		if err := in.startClient(req.Topics, req.TopicPattern); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (b *Bridge) getSubscription(w http.ResponseWriter, r *http.Request) {
	b.withInstance(w, r, func(in *instance) error {
		out := subscriptionStateJSON{Topics: []string{}, Partitions: []map[string][]int32{}}
		if in.topicPattern != "" {
			out.Topics = append(out.Topics, in.topicPattern)
		} else {
			out.Topics = append(out.Topics, in.topics...)
		}
		asg := in.assignment()
		names := make([]string, 0, len(asg))
		for t := range asg {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			if len(asg[t]) > 0 {
				out.Partitions = append(out.Partitions, map[string][]int32{t: asg[t]})
			}
		}
		writeJSON(w, http.StatusOK, contentTypeV2, out)
		return nil
	})
}

func (b *Bridge) unsubscribe(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := requestCtx(r)
	defer cancel()
	b.withInstance(w, r, func(in *instance) error {
		in.stopClient(ctx)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusUnprocessableEntity, "query parameter %s=%q is not a non-negative integer", name, s)
	}
	return n, nil
}

func (b *Bridge) pollRecords(w http.ResponseWriter, r *http.Request) {
	b.withInstance(w, r, func(in *instance) error {
		if err := checkAccept(r.Header.Get("Accept"), in.cfg.format); err != nil {
			return err
		}
		timeoutMs, err := queryInt(r, "timeout", in.cfg.requestTimeout.Milliseconds())
		if err != nil {
			return err
		}
		timeout := min(time.Duration(timeoutMs)*time.Millisecond, in.cfg.requestTimeout)
		maxBytes, err := queryInt(r, "max_bytes", math.MaxInt32)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout+DefaultRequestTimeout)
		defer cancel()
		recs, err := in.poll(ctx, timeout, int(min(maxBytes, math.MaxInt32)))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, in.cfg.format.mediaType(), recs)
		return nil
	})
}

func (b *Bridge) commitOffsets(w http.ResponseWriter, r *http.Request) {
	var req offsetsRequestJSON
	if err := b.readJSON(w, r, &req, true); err != nil {
		writeError(w, err)
		return
	}
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	for i, o := range req.Offsets {
		if o.Topic == "" || o.Partition < 0 || o.Offset < 0 {
			writeError(w, errorf(http.StatusUnprocessableEntity, "offsets[%d]: need a topic, a partition >= 0 and an offset >= 0", i))
			return
		}
		if offsets[o.Topic] == nil {
			offsets[o.Topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[o.Topic][o.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o.Offset}
	}
	ctx, cancel := requestCtx(r)
	defer cancel()
	b.withInstance(w, r, func(in *instance) error {
		var err error
		if len(req.Offsets) == 0 {
			err = in.commitConsumed(ctx)
		} else {
			err = in.commit(ctx, offsets)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (b *Bridge) seek(w http.ResponseWriter, r *http.Request) {
	var req offsetsRequestJSON
	if err := b.readJSON(w, r, &req, false); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Offsets) == 0 {
		writeError(w, errorf(http.StatusUnprocessableEntity, "no offsets to seek to"))
		return
	}
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	for i, o := range req.Offsets {
		if o.Partition < 0 || o.Offset < 0 {
			writeError(w, errorf(http.StatusUnprocessableEntity, "offsets[%d]: partition and offset must be >= 0", i))
			return
		}
		if offsets[o.Topic] == nil {
			offsets[o.Topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[o.Topic][o.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o.Offset}
	}
	b.withInstance(w, r, func(in *instance) error {
		if err := in.seek(offsets); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (b *Bridge) seekBeginning(w http.ResponseWriter, r *http.Request) { b.seekEdge(w, r, -2) }
func (b *Bridge) seekEnd(w http.ResponseWriter, r *http.Request)       { b.seekEdge(w, r, -1) }

// seekEdge seeks partitions to their log start (ts -2) or end (ts -1).
func (b *Bridge) seekEdge(w http.ResponseWriter, r *http.Request, ts int64) {
	var req partitionsJSON
	if err := b.readJSON(w, r, &req, false); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Partitions) == 0 {
		writeError(w, errorf(http.StatusUnprocessableEntity, "no partitions to seek"))
		return
	}
	ctx, cancel := requestCtx(r)
	defer cancel()
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	for _, tp := range req.Partitions {
		o, err := b.listOffset(ctx, tp.Topic, tp.Partition, ts)
		if err != nil {
			writeError(w, err)
			return
		}
		if offsets[tp.Topic] == nil {
			offsets[tp.Topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: o}
	}
	b.withInstance(w, r, func(in *instance) error {
		if err := in.seek(offsets); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
