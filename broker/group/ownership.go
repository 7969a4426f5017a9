package group

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"
)

// ErrNotCoordinator is returned to store-write completions of a group this
// coordinator no longer owns: the write was refused, so a coordinator that
// lost a group cannot overwrite what the new owner wrote.
var ErrNotCoordinator = errors.New("not the group's coordinator")

// Node is a broker that can coordinate groups: its id and the incarnation of
// its registration (a new one after every restart or lost session).
type Node struct {
	ID          int32
	Incarnation int64
}

// Owner returns the node that coordinates group among nodes: the one with the
// highest rendezvous weight for (group, node id), so a node leaving or
// arriving moves only the groups it owned or comes to own. -1 when nodes is
// empty.
func Owner(group string, nodes []Node) int32 {
	best, bestW := int32(-1), uint64(0)
	for _, n := range nodes {
		w := weight(group, n.ID)
		if best < 0 || w > bestW || (w == bestW && n.ID > best) {
			best, bestW = n.ID, w
		}
	}
	return best
}

// weight hashes (group, node) to a well-mixed 64-bit weight.
func weight(group string, node int32) uint64 {
	h := fnv.New64a()
	h.Write([]byte(group))
	h.Write([]byte{0, byte(node >> 24), byte(node >> 16), byte(node >> 8), byte(node)})
	x := h.Sum64()
	// splitmix64 finaliser: FNV's low bits are weak for short keys.
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// placement is what Place last told the coordinator; guarded by c.mu.
type placement struct {
	set   bool
	self  int32
	nodes []Node
	fence func() bool // false while this node may have lost its registration
}

// owns reports whether this coordinator owns name now; called with c.mu held.
// Before the first Place it owns every group (a standalone coordinator).
func (c *Coordinator) ownsLocked(name string) bool {
	p := &c.place
	if !p.set {
		return true
	}
	if p.fence != nil && !p.fence() {
		c.fenced.Store(true)
		return false
	}
	return Owner(name, p.nodes) == p.self
}

// ownsGroup is ownsLocked for callers without c.mu.
func (c *Coordinator) ownsGroup(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ownsLocked(name)
}

// Place tells the coordinator which nodes coordinate groups (live and not
// shutting down; may include self) and which one it is; fence reports
// whether this node's registration is certainly still alive (nil: always).
// Groups now owned by another node are dropped from memory (members waiting
// in a rebalance get NOT_COORDINATOR; their pending store writes are
// refused). When the coordinator may have gained groups — a node left or
// changed incarnation, or this node joined — every owned group not in
// memory is loaded from the store in the background; requests for groups
// not in memory wait for that load. The first Place keeps the groups New
// loaded only when self is the only node.
func (c *Coordinator) Place(self int32, nodes []Node, fence func() bool) {
	nodes = append([]Node(nil), nodes...)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	prev := c.place
	c.place = placement{set: true, self: self, nodes: nodes, fence: fence}
	in := false
	for _, n := range nodes {
		if n.ID == self {
			in = true
		}
	}
	dropAll := false
	reload := false
	switch {
	case !prev.set:
		alone := len(nodes) == 1 && in
		dropAll, reload = !alone, !alone && in
	default:
		before := make(map[int32]int64, len(prev.nodes))
		for _, n := range prev.nodes {
			before[n.ID] = n.Incarnation
		}
		after := make(map[int32]int64, len(nodes))
		for _, n := range nodes {
			after[n.ID] = n.Incarnation
		}
		if inc, ok := after[self]; ok && before[self] != inc {
			// This node re-registered (or just became eligible): what it
			// holds may be stale.
			dropAll = true
		}
		for id, inc := range before {
			if cur, ok := after[id]; !ok || cur != inc {
				reload = true
			}
		}
		if dropAll {
			reload = true
		}
		reload = reload && in
	}
	if c.fenced.Swap(false) {
		dropAll, reload = true, in
	}
	dropped := c.dropLocked(dropAll)
	var (
		gen uint64
		ch  chan struct{}
	)
	if reload {
		c.startLoadLocked()
		gen, ch = c.loadGen, c.loading
	}
	c.mu.Unlock()
	c.shutdownDropped(dropped)
	if reload {
		go c.loadOwned(gen, ch)
	}
}

// dropLocked removes the groups this coordinator no longer owns (or all of
// them) from the map; called with c.mu held.
func (c *Coordinator) dropLocked(all bool) []*group {
	var dropped []*group
	for name, g := range c.groups {
		if all || !c.ownsLocked(name) {
			delete(c.groups, name)
			dropped = append(dropped, g)
		}
	}
	return dropped
}

// shutdownDropped stops dropped groups' timers and answers their waiting
// members with NOT_COORDINATOR; concurrent lookups see them Dead and retry.
func (c *Coordinator) shutdownDropped(gs []*group) {
	for _, g := range gs {
		g.mu.Lock()
		g.shutdown()
		g.state = stateDead
		g.unlock()
	}
	if len(gs) > 0 {
		c.log.Info("groups moved to another coordinator", "groups", len(gs))
	}
}

// startLoadLocked opens a new load barrier; called with c.mu held.
func (c *Coordinator) startLoadLocked() {
	c.loadGen++
	c.loading = make(chan struct{})
}

// loadOwned loads every owned group missing from memory, retrying until it
// succeeds, the coordinator closes or a newer load replaces it.
func (c *Coordinator) loadOwned(gen uint64, done chan struct{}) {
	defer close(done)
	backoff := 100 * time.Millisecond
	for {
		c.mu.RLock()
		stale := c.closed || c.loadGen != gen
		c.mu.RUnlock()
		if stale {
			return
		}
		err := c.loadMissing(gen)
		if err == nil {
			break
		}
		c.log.Warn("loading groups failed; retrying", "err", err, "backoff", backoff)
		select {
		case <-c.ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
	c.mu.Lock()
	if c.loadGen == gen {
		c.loading = nil
	}
	c.mu.Unlock()
}

// loadMissing finds every stored group and takes over (claims, then reads)
// the owned ones that are not in memory.
func (c *Coordinator) loadMissing(gen uint64) error {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.StoreTimeout)
	defer cancel()
	states, err := c.store.LoadGroups(ctx)
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	offs, err := c.store.AllOffsets(ctx)
	if err != nil {
		return fmt.Errorf("load offsets: %w", err)
	}
	names := make(map[string]bool, len(states))
	for name := range states {
		names[name] = true
	}
	for k := range offs {
		names[k.Group] = true
	}
	added := 0
	for name := range names {
		c.mu.RLock()
		stale := c.closed || c.loadGen != gen
		want := !stale && c.groups[name] == nil && c.ownsLocked(name)
		c.mu.RUnlock()
		if stale {
			return nil // a newer load (or Close) takes over
		}
		if !want {
			continue
		}
		gctx, gcancel := context.WithTimeout(c.ctx, c.cfg.StoreTimeout)
		_, err := c.acquireLocked(gctx, name, true)
		gcancel()
		if err != nil {
			return fmt.Errorf("take over group %q: %w", name, err)
		}
		added++
	}
	if added > 0 {
		c.log.Info("took over groups", "groups", added)
	}
	return nil
}

// selfLocked returns this node as placed (id and incarnation); called with
// c.mu held. False before the first Place or while self is not eligible.
func (c *Coordinator) selfLocked() (Node, bool) {
	if !c.place.set {
		return Node{}, false
	}
	for _, n := range c.place.nodes {
		if n.ID == c.place.self {
			return n, true
		}
	}
	return Node{}, false
}

// acquire takes over a group that is owned but not in memory: it claims it
// in the store — fencing every write of any earlier copy, here or on another
// node — then reads it, so nothing written before the claim is missed. With
// create unset, a group with nothing stored is neither claimed nor created
// and found is false. found true means "look again": the group is in memory
// now, or another node owns it, or the coordinator closed.
func (c *Coordinator) acquire(name string, create bool) (found bool, err error) {
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.StoreTimeout)
	defer cancel()
	return c.acquireLocked(ctx, name, create)
}

// acquireLocked is acquire with c.loadMu held.
func (c *Coordinator) acquireLocked(ctx context.Context, name string, create bool) (bool, error) {
	c.mu.RLock()
	skip := c.closed || c.groups[name] != nil || !c.ownsLocked(name)
	self, ok := c.selfLocked()
	c.mu.RUnlock()
	if skip || !ok {
		return true, nil
	}
	if !create {
		state, offs, err := c.store.LoadGroup(ctx, name)
		if err != nil {
			return false, fmt.Errorf("read group: %w", err)
		}
		if state == nil && len(offs) == 0 {
			return false, nil
		}
	}
	rev, _, err := c.store.ClaimGroup(ctx, name, self)
	if err != nil {
		return false, fmt.Errorf("claim group: %w", err)
	}
	state, offs, err := c.store.LoadGroup(ctx, name)
	if err != nil {
		return false, fmt.Errorf("read group: %w", err)
	}
	g := newGroup(c, name)
	if state != nil {
		if err := g.restore(state); err != nil {
			c.log.Warn("undecodable group state; starting the group empty", "group", name, "err", err)
			g = newGroup(c, name)
		}
	}
	for k, o := range offs {
		g.offsets[tp{k.Topic, k.Partition}] = o
	}
	g.claim.Store(rev)
	c.mu.Lock()
	if c.closed || c.groups[name] != nil || !c.ownsLocked(name) {
		c.mu.Unlock()
		return true, nil
	}
	c.groups[name] = g
	c.mu.Unlock()
	g.mu.Lock()
	for _, m := range g.members {
		g.heartbeat(m)
	}
	g.unlock()
	return true, nil
}

// claimFor returns the claim revision fencing g's writes: 0 (unfenced) before
// the first Place; g's claim when it has one; else — a group loaded or
// created before the first Place — it claims the group now. That claim is
// kept only when no other node claimed the group before: otherwise what g
// holds may be stale, and the write fails with ErrFenced (the group is then
// read afresh on its next request).
func (c *Coordinator) claimFor(ctx context.Context, g *group) (int64, error) {
	if rev := g.claim.Load(); rev != 0 {
		return rev, nil
	}
	c.mu.RLock()
	placed := c.place.set
	c.mu.RUnlock()
	if !placed {
		return 0, nil
	}
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	if rev := g.claim.Load(); rev != 0 {
		return rev, nil
	}
	c.mu.RLock()
	cur := c.groups[g.name]
	self, ok := c.selfLocked()
	c.mu.RUnlock()
	if (cur != nil && cur != g) || !ok {
		return 0, fmt.Errorf("group %q: this copy was replaced: %w", g.name, ErrFenced)
	}
	rev, prev, err := c.store.ClaimGroup(ctx, g.name, self)
	if err != nil {
		return 0, fmt.Errorf("claim group %q: %w", g.name, err)
	}
	if prev != nil && prev.ID != self.ID {
		return 0, fmt.Errorf("group %q was coordinated by node %d: %w", g.name, prev.ID, ErrFenced)
	}
	g.claim.Store(rev)
	return rev, nil
}

// dropCopy forgets a copy of a group whose claim was replaced: members
// waiting in it get NOT_COORDINATOR, later requests read the group afresh
// (or go to its new coordinator).
func (c *Coordinator) dropCopy(g *group) {
	c.mu.Lock()
	if c.groups[g.name] == g {
		delete(c.groups, g.name)
	}
	c.mu.Unlock()
	g.mu.Lock()
	if g.state != stateDead {
		g.shutdown()
		g.state = stateDead
	}
	g.unlock()
	c.log.Info("group claimed elsewhere; dropped", "group", g.name)
}

// OwnedGroups returns the names of the groups this coordinator holds in memory.
func (c *Coordinator) OwnedGroups() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.groups))
	for name := range c.groups {
		out = append(out, name)
	}
	sortStrings(out)
	return out
}

// awaitLoad waits (bounded) for a load in progress; it reports false when
// the load is still running.
func (c *Coordinator) awaitLoad() bool {
	c.mu.RLock()
	ch := c.loading
	c.mu.RUnlock()
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	case <-time.After(c.cfg.loadWait()):
		return false
	}
}
