package group

import (
	"context"
	"errors"
	"maps"
	"sync"
	"time"
)

var errInjected = errors.New("injected store failure")

// memStore is an in-memory Store with failure and latency injection.
type memStore struct {
	mu      sync.Mutex
	offsets map[OffsetKey]Offset
	groups  map[string][]byte
	fail    bool          // every write fails while set
	delay   time.Duration // every write sleeps this long first
	writes  int
}

func newMemStore() *memStore {
	return &memStore{offsets: map[OffsetKey]Offset{}, groups: map[string][]byte{}}
}

func (s *memStore) write(ctx context.Context) error {
	s.mu.Lock()
	d, fail := s.delay, s.fail
	s.writes++
	s.mu.Unlock()
	if d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail {
		return errInjected
	}
	return nil
}

func (s *memStore) setFail(v bool) {
	s.mu.Lock()
	s.fail = v
	s.mu.Unlock()
}

func (s *memStore) setDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

func (s *memStore) CommitOffsets(ctx context.Context, group string, offs map[OffsetKey]Offset) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, o := range offs {
		if k.Group != group {
			return errors.New("offset key of another group")
		}
		s.offsets[k] = o
	}
	return nil
}

func (s *memStore) AllOffsets(context.Context) (map[OffsetKey]Offset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.offsets), nil
}

func (s *memStore) DeleteOffsets(ctx context.Context, group string, keys []OffsetKey) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		delete(s.offsets, k)
	}
	return nil
}

func (s *memStore) SaveGroup(ctx context.Context, group string, state []byte) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups[group] = append([]byte(nil), state...)
	return nil
}

func (s *memStore) LoadGroups(context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.groups), nil
}

func (s *memStore) DeleteGroup(ctx context.Context, group string) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, group)
	return nil
}

func (s *memStore) offset(k OffsetKey) (Offset, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.offsets[k]
	return o, ok
}

func (s *memStore) hasGroup(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.groups[name]
	return ok
}
