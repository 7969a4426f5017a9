package group

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// savedGroup is the JSON form of a group's state in the Store. Offsets are
// stored separately.
type savedGroup struct {
	Version      int           `json:"version"`
	Generation   int32         `json:"generation"`
	ProtocolType string        `json:"protocolType,omitempty"`
	Protocol     string        `json:"protocol,omitempty"`
	Leader       string        `json:"leader,omitempty"`
	Members      []savedMember `json:"members,omitempty"`
}

type savedMember struct {
	ID                 string     `json:"id"`
	InstanceID         *string    `json:"instanceId,omitempty"`
	ClientID           string     `json:"clientId,omitempty"`
	ClientHost         string     `json:"clientHost,omitempty"`
	SessionTimeoutMs   int64      `json:"sessionTimeoutMs"`
	RebalanceTimeoutMs int64      `json:"rebalanceTimeoutMs"`
	Protocols          []protocol `json:"protocols,omitempty"`
	Assignment         []byte     `json:"assignment,omitempty"`
}

// encode snapshots the group for SaveGroup; called with g.mu held.
func (g *group) encode() []byte {
	sg := savedGroup{
		Version:      1,
		Generation:   g.generation,
		ProtocolType: g.protocolType,
		Protocol:     g.protocol,
		Leader:       g.leader,
	}
	for _, m := range g.sortedMembers() {
		sg.Members = append(sg.Members, savedMember{
			ID:                 m.id,
			InstanceID:         m.instanceID,
			ClientID:           m.clientID,
			ClientHost:         m.clientHost,
			SessionTimeoutMs:   m.sessionTimeout.Milliseconds(),
			RebalanceTimeoutMs: m.rebalanceTimeout.Milliseconds(),
			Protocols:          m.protocols,
			Assignment:         m.assignment,
		})
	}
	b, err := json.Marshal(sg)
	if err != nil {
		panic(fmt.Sprintf("group: encoding state: %v", err)) // only plain types: cannot happen
	}
	return b
}

// restore rebuilds a group from its saved state: Stable with its members
// when it had any, else Empty. Session timers are started by the caller.
func (g *group) restore(raw []byte) error {
	var sg savedGroup
	if err := json.Unmarshal(raw, &sg); err != nil {
		return fmt.Errorf("decode group state: %w", err)
	}
	g.generation = sg.Generation
	g.protocolType = sg.ProtocolType
	g.protocol = sg.Protocol
	g.leader = sg.Leader
	for _, sm := range sg.Members {
		g.nextSeq++
		m := &member{
			id:               sm.ID,
			instanceID:       sm.InstanceID,
			clientID:         sm.ClientID,
			clientHost:       sm.ClientHost,
			seq:              g.nextSeq,
			sessionTimeout:   time.Duration(sm.SessionTimeoutMs) * time.Millisecond,
			rebalanceTimeout: time.Duration(sm.RebalanceTimeoutMs) * time.Millisecond,
			protocols:        sm.Protocols,
			assignment:       sm.Assignment,
		}
		g.members[m.id] = m
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
	}
	if len(g.members) == 0 {
		g.state = stateEmpty
		g.protocol = ""
		g.leader = ""
		return nil
	}
	if g.members[g.leader] == nil {
		ids := make([]string, 0, len(g.members))
		for id := range g.members {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		g.leader = ids[0]
	}
	g.state = stateStable
	return nil
}

// save queues a SaveGroup of the current state; called with g.mu held.
func (g *group) save() { g.saveThen(nil) }

// saveThen queues a SaveGroup of the current state and calls then (if set)
// once it is written, whatever the outcome (the in-memory state stays
// authoritative while this coordinator runs; a failure is logged).
func (g *group) saveThen(then func()) {
	c, name, state := g.c, g.name, g.encode()
	c.enqueue(g, func(ctx context.Context, rev int64) error {
		return c.store.SaveGroup(ctx, name, rev, state)
	}, func(err error) {
		if err != nil {
			c.log.Warn("saving group state failed", "group", name, "err", err)
		}
		if then != nil {
			then()
		}
	})
}
