package bridge

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

type headerJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"` // base64
}

type produceRecordJSON struct {
	Key       json.RawMessage `json:"key,omitempty"`
	Value     json.RawMessage `json:"value,omitempty"`
	Partition *int32          `json:"partition,omitempty"`
	Timestamp *int64          `json:"timestamp,omitempty"`
	Headers   []headerJSON    `json:"headers,omitempty"`
}

type produceRequestJSON struct {
	Records []produceRecordJSON `json:"records"`
}

// offsetResultJSON is one record's outcome: partition and offset, or an error.
type offsetResultJSON struct {
	Partition *int32 `json:"partition,omitempty"`
	Offset    *int64 `json:"offset,omitempty"`
	ErrorCode int    `json:"error_code,omitempty"`
	Message   string `json:"message,omitempty"`
}

type produceResponseJSON struct {
	Offsets []offsetResultJSON `json:"offsets"`
}

func (b *Bridge) produceTopic(w http.ResponseWriter, r *http.Request) {
	b.produce(w, r, false)
}

func (b *Bridge) producePartition(w http.ResponseWriter, r *http.Request) {
	b.produce(w, r, true)
}

// produce handles both produce routes; toPartition is the
// /topics/{topic}/partitions/{partition} form.
func (b *Bridge) produce(w http.ResponseWriter, r *http.Request, toPartition bool) {
	f, err := formatOfContentType(r.Header.Get("Content-Type"))
	if err != nil {
		writeError(w, err)
		return
	}
	var req produceRequestJSON
	if err := b.readJSON(w, r, &req, false); err != nil {
		writeError(w, err)
		return
	}
	if len(req.Records) == 0 {
		writeError(w, errorf(http.StatusUnprocessableEntity, "no records to produce"))
		return
	}
	ctx, cancel := requestCtx(r)
	defer cancel()
	topic := r.PathValue("topic")
	meta, err := b.topicMeta(ctx, topic)
	if err != nil {
		writeError(w, err)
		return
	}
	var fixed *int32
	if toPartition {
		p, err := pathPartition(r, meta)
		if err != nil {
			writeError(w, err)
			return
		}
		fixed = &p.Partition
	}
	records, err := buildRecords(f, topic, req.Records, fixed)
	if err != nil {
		writeError(w, err)
		return
	}

	results := make([]offsetResultJSON, len(records))
	index := make(map[*kgo.Record]int, len(records))
	var send []*kgo.Record
	for i, rec := range records {
		if rec.Context != nil && int(rec.Partition) >= len(meta.Partitions) {
			results[i] = offsetResultJSON{ErrorCode: http.StatusNotFound,
				Message: fmt.Sprintf("partition %d of topic %q not found", rec.Partition, topic)}
			continue
		}
		index[rec] = i
		send = append(send, rec)
	}
	for _, res := range b.producer.ProduceSync(ctx, send...) {
		i := index[res.Record]
		if res.Err != nil {
			results[i] = offsetResultJSON{ErrorCode: produceErrorCode(res.Err), Message: res.Err.Error()}
			continue
		}
		p, o := res.Record.Partition, res.Record.Offset
		results[i] = offsetResultJSON{Partition: &p, Offset: &o}
		b.metrics.produced.Inc()
	}
	writeJSON(w, http.StatusOK, contentTypeV2, produceResponseJSON{Offsets: results})
}

// buildRecords validates the request's records and turns them into kgo
// records; fixed, if set, is the partition named in the path.
func buildRecords(f format, topic string, in []produceRecordJSON, fixed *int32) ([]*kgo.Record, error) {
	out := make([]*kgo.Record, 0, len(in))
	for i, jr := range in {
		rec := &kgo.Record{Topic: topic}
		var err error
		if rec.Key, err = decodeData(f, jr.Key); err != nil {
			return nil, errorf(http.StatusUnprocessableEntity, "records[%d].key: %v", i, err)
		}
		if rec.Value, err = decodeData(f, jr.Value); err != nil {
			return nil, errorf(http.StatusUnprocessableEntity, "records[%d].value: %v", i, err)
		}
		part := jr.Partition
		if fixed != nil {
			if part != nil && *part != *fixed {
				return nil, errorf(http.StatusUnprocessableEntity, "records[%d].partition %d differs from partition %d in the path", i, *part, *fixed)
			}
			part = fixed
		}
		if part != nil {
			if *part < 0 {
				return nil, errorf(http.StatusUnprocessableEntity, "records[%d].partition %d is negative", i, *part)
			}
			rec.Partition = *part
			rec.Context = withExplicitPartition(context.Background())
		}
		if jr.Timestamp != nil {
			if *jr.Timestamp < 0 {
				return nil, errorf(http.StatusUnprocessableEntity, "records[%d].timestamp %d is negative", i, *jr.Timestamp)
			}
			rec.Timestamp = time.UnixMilli(*jr.Timestamp)
		}
		for j, h := range jr.Headers {
			v, err := base64.StdEncoding.DecodeString(h.Value)
			if err != nil {
				return nil, errorf(http.StatusUnprocessableEntity, "records[%d].headers[%d].value is not valid base64: %v", i, j, err)
			}
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: v})
		}
		out = append(out, rec)
	}
	return out, nil
}

// produceErrorCode is the per-record error_code for a produce failure.
func produceErrorCode(err error) int {
	var ke *kerr.Error
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return http.StatusNotFound
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, kerr.InvalidRecord), errors.Is(err, kerr.CorruptMessage), errors.Is(err, kerr.InvalidTimestamp):
		return http.StatusUnprocessableEntity
	case errors.As(err, &ke) && ke.Retriable, errors.Is(err, kgo.ErrRecordTimeout):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
