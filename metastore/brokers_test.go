package metastore

import (
	"context"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// plainBrokers drops the fields filled on read, for comparing registrations
// with what was registered.
func plainBrokers(bs []BrokerInfo) []BrokerInfo {
	out := make([]BrokerInfo, len(bs))
	for i, b := range bs {
		b.Incarnation, b.Revision = 0, 0
		out[i] = b
	}
	return out
}

// A restart (a new session for the same node id while the old lease is still
// alive) and a lease lost and re-created are both new incarnations; the
// session reports the revision of its latest registration put.
func TestBrokerIncarnations(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)
	get := func() BrokerInfo {
		t.Helper()
		got, err := s.ListBrokers(ctx)
		if err != nil || len(got) != 1 {
			t.Fatalf("ListBrokers = %+v, %v", got, err)
		}
		return got[0]
	}
	info := BrokerInfo{NodeID: 3, Host: "h", Port: 1}
	old, err := s.RegisterBrokerSession(ctx, info, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	first := get()
	if first.Incarnation != old.Incarnation() || first.Revision != old.Revision() || first.Revision == 0 {
		t.Fatalf("registration %+v, session incarnation %d revision %d", first, old.Incarnation(), old.Revision())
	}

	// Restart: a second session takes over the key while the first lease lives.
	restartCtx, cancelRestart := context.WithCancel(ctx)
	defer cancelRestart()
	restarted, err := s.RegisterBrokerSession(restartCtx, info, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	second := get()
	if second.Incarnation == first.Incarnation || second.Incarnation != restarted.Incarnation() ||
		second.Revision != restarted.Revision() || second.Revision <= first.Revision {
		t.Fatalf("after restart %+v (before %+v), session incarnation %d revision %d",
			second, first, restarted.Incarnation(), restarted.Revision())
	}

	// Lease lost: the session re-registers on a new lease, a new incarnation.
	lost := restarted.Lost()
	if _, err := s.cli.Revoke(ctx, clientv3.LeaseID(restarted.Incarnation())); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("lease loss not noticed")
	}
	waitFor(t, 10*time.Second, func() bool {
		got, err := s.ListBrokers(ctx)
		return err == nil && len(got) == 1 && got[0].Incarnation == restarted.Incarnation() &&
			got[0].Revision == restarted.Revision()
	})
	third := get()
	if third.Incarnation == second.Incarnation || third.Revision <= second.Revision {
		t.Fatalf("after lease loss %+v (before %+v)", third, second)
	}
}
