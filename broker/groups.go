package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Group APIs, classic protocol, served by broker/group's coordinator. Each
// handler hands the request over on the connection's read goroutine (so
// the coordinator applies state changes in request order) and replies when
// the coordinator calls back: JoinGroup after the rebalance, SyncGroup
// after the leader's assignment, OffsetCommit after the etcd write.
//
//   - OffsetCommit: v2-9 (v10 names topics by id, KIP-848: not yet)
//   - OffsetFetch: v1-9 (v8 batches groups; v10 topic ids: not yet)
//   - JoinGroup: v0-9, Heartbeat: v0-4, LeaveGroup: v0-5, SyncGroup: v0-5
//   - DescribeGroups: v0-6, ListGroups: v0-5, DeleteGroups: v0-3,
//     OffsetDelete: v0
func init() {
	register(8, 2, 9, groupAPI(func(b *Broker, c *conn, r *kmsg.OffsetCommitRequest, done func(*kmsg.OffsetCommitResponse)) {
		b.groups.OffsetCommit(r, done)
	}))
	register(9, 1, 9, groupAPI(func(b *Broker, c *conn, r *kmsg.OffsetFetchRequest, done func(*kmsg.OffsetFetchResponse)) {
		b.groups.OffsetFetch(r, done)
	}))
	register(11, 0, 9, groupAPI(func(b *Broker, c *conn, r *kmsg.JoinGroupRequest, done func(*kmsg.JoinGroupResponse)) {
		b.groups.JoinGroupWithClient(r, c.clientID, c.remoteHost(), done)
	}))
	register(12, 0, 4, groupAPI(func(b *Broker, c *conn, r *kmsg.HeartbeatRequest, done func(*kmsg.HeartbeatResponse)) {
		b.groups.Heartbeat(r, done)
	}))
	register(13, 0, 5, groupAPI(func(b *Broker, c *conn, r *kmsg.LeaveGroupRequest, done func(*kmsg.LeaveGroupResponse)) {
		b.groups.LeaveGroup(r, done)
	}))
	register(14, 0, 5, groupAPI(func(b *Broker, c *conn, r *kmsg.SyncGroupRequest, done func(*kmsg.SyncGroupResponse)) {
		b.groups.SyncGroup(r, done)
	}))
	register(15, 0, 6, groupAPI(func(b *Broker, c *conn, r *kmsg.DescribeGroupsRequest, done func(*kmsg.DescribeGroupsResponse)) {
		b.groups.DescribeGroups(r, done)
	}))
	register(16, 0, 5, groupAPI(func(b *Broker, c *conn, r *kmsg.ListGroupsRequest, done func(*kmsg.ListGroupsResponse)) {
		b.groups.ListGroups(r, done)
	}))
	register(42, 0, 3, groupAPI(func(b *Broker, c *conn, r *kmsg.DeleteGroupsRequest, done func(*kmsg.DeleteGroupsResponse)) {
		b.groups.DeleteGroups(r, done)
	}))
	register(47, 0, 0, groupAPI(func(b *Broker, c *conn, r *kmsg.OffsetDeleteRequest, done func(*kmsg.OffsetDeleteResponse)) {
		b.groups.OffsetDelete(r, done)
	}))
}

// groupAPI adapts a typed coordinator call to a handler with a pending reply.
func groupAPI[Req kmsg.Request, Resp kmsg.Response](call func(*Broker, *conn, Req, func(Resp))) handler {
	return func(b *Broker, c *conn, kreq kmsg.Request) reply {
		rep, done := later()
		call(b, c, kreq.(Req), func(r Resp) { done(r) })
		return rep
	}
}

func (c *conn) remoteHost() string {
	host, _ := splitHostPort(c.remote)
	return "/" + host
}
