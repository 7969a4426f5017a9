package group

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupType is the only group type this coordinator serves (KIP-848 naming).
const groupType = "classic"

// DescribeGroups serves a DescribeGroups. An unknown group is reported as
// Dead; from v6 (KIP-1043) with GROUP_ID_NOT_FOUND as well. Member metadata
// and assignments are only included for a Stable group, as in Kafka.
func (c *Coordinator) DescribeGroups(req *kmsg.DescribeGroupsRequest, done func(*kmsg.DescribeGroupsResponse)) {
	version := req.GetVersion()
	resp := kmsg.NewPtrDescribeGroupsResponse()
	for _, name := range req.Groups {
		rg := kmsg.NewDescribeGroupsResponseGroup()
		rg.Group = name
		rg.State = stateDead.String()
		g, code := c.lockGroup(name, false)
		switch {
		case g != nil:
			rg.State = g.state.String()
			rg.ProtocolType = g.protocolType
			stable := g.state == stateStable
			if stable {
				rg.Protocol = g.protocol
			}
			for _, m := range g.sortedMembers() {
				rm := kmsg.NewDescribeGroupsResponseGroupMember()
				rm.MemberID = m.id
				rm.InstanceID = m.instanceID
				rm.ClientID = m.clientID
				rm.ClientHost = m.clientHost
				if stable {
					rm.ProtocolMetadata = m.metadataFor(g.protocol)
					rm.MemberAssignment = m.assignment
				}
				rg.Members = append(rg.Members, rm)
			}
			g.unlock()
		case code != 0:
			rg.ErrorCode = code
		case version >= 6:
			rg.ErrorCode = kerr.GroupIDNotFound.Code
			rg.ErrorMessage = strPtr("group " + name + " not found")
		}
		resp.Groups = append(resp.Groups, rg)
	}
	done(resp)
}

// ListGroups serves a ListGroups, honouring StatesFilter (v4+) and
// TypesFilter (v5+, every group here is "classic"); both case-insensitive.
func (c *Coordinator) ListGroups(req *kmsg.ListGroupsRequest, done func(*kmsg.ListGroupsResponse)) {
	version := req.GetVersion()
	resp := kmsg.NewPtrListGroupsResponse()
	if c.isClosed() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		done(resp)
		return
	}
	var states, types []string
	if version >= 4 {
		states = req.StatesFilter
	}
	if version >= 5 {
		types = req.TypesFilter
	}
	if !c.awaitLoad() {
		resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
		done(resp)
		return
	}
	if len(types) > 0 && !containsFold(types, groupType) {
		done(resp)
		return
	}
	for _, g := range c.snapshotGroups() {
		g.mu.Lock()
		st, ptype, name := g.state, g.protocolType, g.name
		g.unlock()
		if st == stateDead || (len(states) > 0 && !containsFold(states, st.String())) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group = name
		lg.ProtocolType = ptype
		lg.GroupState = st.String()
		lg.GroupType = groupType
		resp.Groups = append(resp.Groups, lg)
	}
	sort.Slice(resp.Groups, func(i, j int) bool { return resp.Groups[i].Group < resp.Groups[j].Group })
	done(resp)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// DeleteGroups serves a DeleteGroups: Empty groups are deleted with their
// offsets (NON_EMPTY_GROUP otherwise, GROUP_ID_NOT_FOUND when unknown); done
// is called after the Store writes.
func (c *Coordinator) DeleteGroups(req *kmsg.DeleteGroupsRequest, done func(*kmsg.DeleteGroupsResponse)) {
	version := req.GetVersion()
	resp := kmsg.NewPtrDeleteGroupsResponse()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, name := range req.Groups {
		rg := kmsg.NewDeleteGroupsResponseGroup()
		rg.Group = name
		resp.Groups = append(resp.Groups, rg)
	}
	for i, name := range req.Groups {
		rg := &resp.Groups[i]
		g, code := c.lockGroup(name, false)
		if g == nil {
			rg.ErrorCode = kerr.GroupIDNotFound.Code
			if code != 0 {
				rg.ErrorCode = code
			}
			continue
		}
		if g.state != stateEmpty {
			rg.ErrorCode = kerr.NonEmptyGroup.Code
			g.unlock()
			continue
		}
		keys := g.markDeleted()
		wg.Add(1)
		c.enqueue(g, func(ctx context.Context, rev int64) error {
			var errs []error
			if len(keys) > 0 {
				errs = append(errs, c.store.DeleteOffsets(ctx, name, rev, keys))
			}
			errs = append(errs, c.store.DeleteGroup(ctx, name, rev))
			return errors.Join(errs...)
		}, func(err error) {
			defer wg.Done()
			if err != nil {
				c.log.Warn("deleting group from the store failed", "group", name, "err", err)
				mu.Lock()
				rg.ErrorCode = storeErrCode(err)
				mu.Unlock()
			}
		})
		g.unlock()
	}
	go func() {
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if version >= 3 {
			for i := range resp.Groups {
				if resp.Groups[i].ErrorCode == kerr.GroupIDNotFound.Code {
					resp.Groups[i].ErrorMessage = strPtr("group " + resp.Groups[i].Group + " not found")
				}
			}
		}
		done(resp)
	}()
}

// markDeleted turns an Empty group Dead, forgets it and returns the keys of
// its offsets; called with g.mu held.
func (g *group) markDeleted() []OffsetKey {
	g.state = stateDead
	g.stopRebalanceTimer()
	for id, t := range g.pending {
		t.Stop()
		delete(g.pending, id)
	}
	keys := make([]OffsetKey, 0, len(g.offsets))
	for k := range g.offsets {
		keys = append(keys, OffsetKey{Group: g.name, Topic: k.Topic, Partition: k.Partition})
	}
	g.offsets = map[tp]Offset{}
	g.c.removeGroup(g)
	return keys
}
