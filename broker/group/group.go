package group

import (
	"bytes"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// state is a group's place in the classic rebalance state machine.
type state int8

const (
	stateEmpty state = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

var stateNames = [...]string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"}

// String returns Kafka's name for the state, as DescribeGroups and ListGroups report it.
func (s state) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "Unknown"
}

// protocol is one (name, metadata) pair a member supports, in preference order.
type protocol struct {
	Name     string
	Metadata []byte
}

// member is one member of a group.
type member struct {
	id         string
	instanceID *string // static membership (group.instance.id), nil for dynamic members
	clientID   string
	clientHost string
	seq        uint64 // join order, for stable listings and leader choice

	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocols        []protocol
	assignment       []byte

	joinDone func(*kmsg.JoinGroupResponse) // set while awaiting the rebalance
	syncDone func(*kmsg.SyncGroupResponse) // set while awaiting the leader's assignment

	hbTimer *time.Timer
	hbSeq   uint64
}

func (m *member) isStatic() bool { return m.instanceID != nil }

// metadataFor returns the member's metadata for the named protocol.
func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

// matches reports whether the member already has exactly these protocols.
func (m *member) matches(ps []protocol) bool {
	if len(ps) != len(m.protocols) {
		return false
	}
	for i := range ps {
		if ps[i].Name != m.protocols[i].Name || !bytes.Equal(ps[i].Metadata, m.protocols[i].Metadata) {
			return false
		}
	}
	return true
}

// group is one consumer group. Everything below mu is guarded by it.
type group struct {
	c    *Coordinator
	name string

	mu    sync.Mutex
	after []func() // run after mu is released (response callbacks)

	state        state
	generation   int32
	protocolType string // "" when no member ever joined (simple commit groups)
	protocol     string // selected protocol of the current generation
	leader       string
	members      map[string]*member
	static       map[string]string // instance id -> member id
	pending      map[string]*time.Timer
	nextSeq      uint64

	rebalanceTimer *time.Timer
	rebalanceSeq   uint64
	initialDelay   bool          // the current PreparingRebalance is in its initial delay
	delayRemaining time.Duration // what is left of the rebalance timeout for extensions
	newMemberAdded bool

	offsets map[tp]Offset

	// claim is the store revision of this copy's claim on the group (see
	// Store.ClaimGroup); 0 until claimed. Its writes are fenced by it.
	claim atomic.Int64
}

// tp is a topic partition within one group.
type tp struct {
	Topic     string
	Partition int32
}

func newGroup(c *Coordinator, name string) *group {
	return &group{
		c:       c,
		name:    name,
		members: make(map[string]*member),
		static:  make(map[string]string),
		pending: make(map[string]*time.Timer),
		offsets: make(map[tp]Offset),
	}
}

// unlock releases the group and then runs the callbacks queued while it was held.
func (g *group) unlock() {
	fns := g.after
	g.after = nil
	g.mu.Unlock()
	for _, f := range fns {
		f()
	}
}

// later queues f to run once the group lock is released.
func (g *group) later(f func()) { g.after = append(g.after, f) }

// sortedMembers returns the members in join order.
func (g *group) sortedMembers() []*member {
	ms := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].seq < ms[j].seq })
	return ms
}

// isStaticFenced reports whether instanceID belongs to a member other than memberID.
func (g *group) isStaticFenced(memberID string, instanceID *string) bool {
	if instanceID == nil {
		return false
	}
	cur, ok := g.static[*instanceID]
	return ok && cur != memberID
}

// supportsProtocols reports whether a member (other than except) joining with
// this protocol type and these protocols fits the group.
func (g *group) supportsProtocols(except, ptype string, ps []protocol) bool {
	others := 0
	for id := range g.members {
		if id != except {
			others++
		}
	}
	if ptype == "" || len(ps) == 0 {
		return false
	}
	if others == 0 {
		return true
	}
	if ptype != g.protocolType {
		return false
	}
	for _, p := range ps {
		all := true
		for id, m := range g.members {
			if id != except && !hasProtocol(m, p.Name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func hasProtocol(m *member, name string) bool {
	for _, p := range m.protocols {
		if p.Name == name {
			return true
		}
	}
	return false
}

// selectProtocol picks the protocol every member supports with the most
// first-preference votes, as Kafka does; ties go to the earliest member's order.
func (g *group) selectProtocol() string {
	ms := g.sortedMembers()
	if len(ms) == 0 {
		return ""
	}
	var candidates []string
	for _, p := range ms[0].protocols {
		all := true
		for _, m := range ms[1:] {
			if !hasProtocol(m, p.Name) {
				all = false
				break
			}
		}
		if all {
			candidates = append(candidates, p.Name)
		}
	}
	if len(candidates) == 0 {
		return ""
	}
	isCandidate := make(map[string]bool, len(candidates))
	for _, n := range candidates {
		isCandidate[n] = true
	}
	votes := make(map[string]int, len(candidates))
	for _, m := range ms {
		for _, p := range m.protocols {
			if isCandidate[p.Name] {
				votes[p.Name]++
				break
			}
		}
	}
	best := candidates[0]
	for _, n := range candidates[1:] {
		if votes[n] > votes[best] {
			best = n
		}
	}
	return best
}

// protocolsOf converts a JoinGroup's protocols. The metadata is copied: a
// decoded request's byte slices may alias the connection's read buffer.
func protocolsOf(req *kmsg.JoinGroupRequest) []protocol {
	ps := make([]protocol, 0, len(req.Protocols))
	for _, p := range req.Protocols {
		ps = append(ps, protocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)})
	}
	return ps
}

// memberList is the JoinGroup response's member list for the leader.
func (g *group) memberList() []kmsg.JoinGroupResponseMember {
	ms := g.sortedMembers()
	out := make([]kmsg.JoinGroupResponseMember, 0, len(ms))
	for _, m := range ms {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadataFor(g.protocol)
		out = append(out, jm)
	}
	return out
}

func strPtr(s string) *string { return &s }
