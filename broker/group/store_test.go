package group

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
	owners  map[string]claim // the last claim of each group
	rev     int64            // last claim revision handed out
	fail    bool             // every write fails while set
	delay   time.Duration    // every write sleeps this long first
	writes  int
}

func newMemStore() *memStore {
	return &memStore{offsets: map[OffsetKey]Offset{}, groups: map[string][]byte{}, owners: map[string]claim{}}
}

type claim struct {
	owner Node
	rev   int64
}

func (s *memStore) ClaimGroup(_ context.Context, group string, owner Node) (int64, *Node, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var prev *Node
	if c, ok := s.owners[group]; ok {
		prev = &c.owner
	}
	s.rev++
	s.owners[group] = claim{owner, s.rev}
	return s.rev, prev, nil
}

// fenced reports ErrFenced for a write under claim rev that another claim
// replaced; called with s.mu held.
func (s *memStore) fenced(group string, rev int64) error {
	if rev != 0 && s.owners[group].rev != rev {
		return fmt.Errorf("group %q: claim %d replaced: %w", group, rev, ErrFenced)
	}
	return nil
}

func (s *memStore) LoadGroup(_ context.Context, group string) ([]byte, map[OffsetKey]Offset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	offs := map[OffsetKey]Offset{}
	for k, o := range s.offsets {
		if k.Group == group {
			offs[k] = o
		}
	}
	return bytes.Clone(s.groups[group]), offs, nil
}

// owner returns the last claimant of group.
func (s *memStore) owner(group string) (Node, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.owners[group]
	return c.owner, ok
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

func (s *memStore) CommitOffsets(ctx context.Context, group string, rev int64, offs map[OffsetKey]Offset) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fenced(group, rev); err != nil {
		return err
	}
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

func (s *memStore) DeleteOffsets(ctx context.Context, group string, rev int64, keys []OffsetKey) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fenced(group, rev); err != nil {
		return err
	}
	for _, k := range keys {
		delete(s.offsets, k)
	}
	return nil
}

func (s *memStore) SaveGroup(ctx context.Context, group string, rev int64, state []byte) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fenced(group, rev); err != nil {
		return err
	}
	s.groups[group] = append([]byte(nil), state...)
	return nil
}

func (s *memStore) LoadGroups(context.Context) (map[string][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.groups), nil
}

func (s *memStore) DeleteGroup(ctx context.Context, group string, rev int64) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fenced(group, rev); err != nil {
		return err
	}
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
