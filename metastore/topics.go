package metastore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Topic is a topic's cluster-wide definition.
type Topic struct {
	Name              string
	ID                [16]byte // random UUID, never all zero
	Partitions        int32
	ReplicationFactor int16
	Configs           map[string]string // only explicitly set (non-default) configs
	Revision          int64             // etcd mod revision, filled on read; used for CAS
}

// IDString renders the topic id the way Kafka prints it (base64url, no padding).
func (t Topic) IDString() string { return base64.RawURLEncoding.EncodeToString(t.ID[:]) }

// topicValue is the JSON stored for a topic.
type topicValue struct {
	Name              string            `json:"name"`
	ID                string            `json:"id"`
	Partitions        int32             `json:"partitions"`
	ReplicationFactor int16             `json:"replicationFactor"`
	Configs           map[string]string `json:"configs,omitempty"`
}

// maxUpdateAttempts bounds the read-modify-CAS loops before giving up with
// ErrConflict.
const maxUpdateAttempts = 16

func encodeTopic(t Topic) ([]byte, error) {
	return json.Marshal(topicValue{
		Name:              t.Name,
		ID:                t.IDString(),
		Partitions:        t.Partitions,
		ReplicationFactor: t.ReplicationFactor,
		Configs:           t.Configs,
	})
}

func decodeTopic(kv *mvccpb.KeyValue) (Topic, error) {
	var v topicValue
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		return Topic{}, fmt.Errorf("metastore: decode topic %q: %w", kv.Key, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(v.ID)
	if err != nil || len(raw) != 16 {
		return Topic{}, fmt.Errorf("metastore: decode topic %q: bad id %q", kv.Key, v.ID)
	}
	t := Topic{
		Name:              v.Name,
		Partitions:        v.Partitions,
		ReplicationFactor: v.ReplicationFactor,
		Configs:           v.Configs,
		Revision:          kv.ModRevision,
	}
	copy(t.ID[:], raw)
	return t, nil
}

func validateTopic(t Topic) error {
	switch {
	case t.Name == "":
		return errors.New("metastore: topic name is empty")
	case t.Partitions < 1:
		return fmt.Errorf("metastore: topic %q: partitions must be >= 1, got %d", t.Name, t.Partitions)
	case t.ReplicationFactor < 1:
		return fmt.Errorf("metastore: topic %q: replication factor must be >= 1, got %d", t.Name, t.ReplicationFactor)
	}
	return nil
}

// CreateTopic stores a new topic atomically, assigning a random ID if t.ID is
// zero. It returns ErrExists if the name is taken. The returned Topic carries
// the assigned ID and its Revision.
func (s *Store) CreateTopic(ctx context.Context, t Topic) (Topic, error) {
	if err := validateTopic(t); err != nil {
		return Topic{}, err
	}
	if t.ID == ([16]byte{}) {
		t.ID = newUUID()
	}
	t.Configs = cloneConfigs(t.Configs)
	val, err := encodeTopic(t)
	if err != nil {
		return Topic{}, fmt.Errorf("metastore: encode topic %q: %w", t.Name, err)
	}
	key := s.topicKey(t.Name)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(val))).
		Commit()
	if err != nil {
		return Topic{}, fmt.Errorf("metastore: create topic %q: %w", t.Name, err)
	}
	if !resp.Succeeded {
		return Topic{}, fmt.Errorf("metastore: create topic %q: %w", t.Name, ErrExists)
	}
	t.Revision = resp.Header.Revision
	return t, nil
}

// GetTopic returns the named topic or ErrNotFound.
func (s *Store) GetTopic(ctx context.Context, name string) (Topic, error) {
	resp, err := s.cli.Get(ctx, s.topicKey(name))
	if err != nil {
		return Topic{}, fmt.Errorf("metastore: get topic %q: %w", name, err)
	}
	if len(resp.Kvs) == 0 {
		return Topic{}, fmt.Errorf("metastore: topic %q: %w", name, ErrNotFound)
	}
	return decodeTopic(resp.Kvs[0])
}

// ListTopics returns every topic, sorted by name.
func (s *Store) ListTopics(ctx context.Context) ([]Topic, error) {
	topics, _, err := s.listTopics(ctx)
	return topics, err
}

// listTopics also returns the etcd revision the listing was read at.
func (s *Store) listTopics(ctx context.Context) ([]Topic, int64, error) {
	resp, err := s.cli.Get(ctx, s.topicsPrefix(), clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("metastore: list topics: %w", err)
	}
	topics := make([]Topic, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		t, err := decodeTopic(kv)
		if err != nil {
			return nil, 0, err
		}
		topics = append(topics, t)
	}
	sortTopics(topics)
	return topics, resp.Header.Revision, nil
}

func sortTopics(ts []Topic) {
	slices.SortFunc(ts, func(a, b Topic) int { return strings.Compare(a.Name, b.Name) })
}

// PutTopic overwrites an existing topic only if its stored revision still
// equals t.Revision (compare-and-swap). It returns ErrNotFound if the topic
// is gone and ErrConflict if it changed since t was read. The name and ID
// identify the topic and cannot change.
func (s *Store) PutTopic(ctx context.Context, t Topic) (Topic, error) {
	if err := validateTopic(t); err != nil {
		return Topic{}, err
	}
	t.Configs = cloneConfigs(t.Configs)
	val, err := encodeTopic(t)
	if err != nil {
		return Topic{}, fmt.Errorf("metastore: encode topic %q: %w", t.Name, err)
	}
	key := s.topicKey(t.Name)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", t.Revision)).
		Then(clientv3.OpPut(key, string(val))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return Topic{}, fmt.Errorf("metastore: put topic %q: %w", t.Name, err)
	}
	if !resp.Succeeded {
		if len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return Topic{}, fmt.Errorf("metastore: put topic %q: %w", t.Name, ErrNotFound)
		}
		return Topic{}, fmt.Errorf("metastore: put topic %q at revision %d: %w", t.Name, t.Revision, ErrConflict)
	}
	t.Revision = resp.Header.Revision
	return t, nil
}

// UpdateTopic reads the topic, applies fn to a copy and writes it back with a
// compare-and-swap on the revision, retrying from the read when another
// writer got there first. An error from fn aborts the update and is returned
// wrapped. After repeated conflicts it returns ErrConflict.
func (s *Store) UpdateTopic(ctx context.Context, name string, fn func(*Topic) error) (Topic, error) {
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		cur, err := s.GetTopic(ctx, name)
		if err != nil {
			return Topic{}, err
		}
		next := cur
		next.Configs = cloneConfigs(cur.Configs)
		if err := fn(&next); err != nil {
			return Topic{}, fmt.Errorf("metastore: update topic %q: %w", name, err)
		}
		if next.Name != cur.Name || next.ID != cur.ID {
			return Topic{}, fmt.Errorf("metastore: update topic %q: name and id cannot change", name)
		}
		next.Revision = cur.Revision
		out, err := s.PutTopic(ctx, next)
		if errors.Is(err, ErrConflict) {
			if err := backoff(ctx, attempt); err != nil {
				return Topic{}, err
			}
			continue
		}
		return out, err
	}
	return Topic{}, fmt.Errorf("metastore: update topic %q after %d attempts: %w", name, maxUpdateAttempts, ErrConflict)
}

// DeleteTopic removes the topic, and its partition states in the same
// transaction, and returns what was stored, or ErrNotFound. Committed offsets
// for the topic are left alone (they are cleaned up lazily, as Kafka does).
func (s *Store) DeleteTopic(ctx context.Context, name string) (Topic, error) {
	key := s.topicKey(name)
	for attempt := 0; attempt < maxUpdateAttempts; attempt++ {
		cur, err := s.GetTopic(ctx, name)
		if err != nil {
			return Topic{}, fmt.Errorf("metastore: delete topic %q: %w", name, err)
		}
		resp, err := s.cli.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", cur.Revision)).
			Then(clientv3.OpDelete(key), clientv3.OpDelete(s.topicPartitionsPrefix(cur.ID), clientv3.WithPrefix())).
			Commit()
		if err != nil {
			return Topic{}, fmt.Errorf("metastore: delete topic %q: %w", name, err)
		}
		if resp.Succeeded {
			return cur, nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return Topic{}, err
		}
	}
	return Topic{}, fmt.Errorf("metastore: delete topic %q after %d attempts: %w", name, maxUpdateAttempts, ErrConflict)
}

func cloneConfigs(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// backoff sleeps a short, growing, jittered time before retry number attempt.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(1+attempt) * time.Millisecond
	d += rand.N(d + time.Millisecond)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
