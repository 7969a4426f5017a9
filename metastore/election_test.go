package metastore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestControllerElection(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)
	if id, err := s.Controller(ctx); err != nil || id != -1 {
		t.Fatalf("controller before any campaign = %d, %v", id, err)
	}
	l1, err := s.Campaign(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if id, err := s.Controller(ctx); err != nil || id != 1 {
		t.Fatalf("controller = %d, %v; want 1", id, err)
	}
	second := make(chan *Leadership, 1)
	go func() {
		l, err := s.Campaign(ctx, 2)
		if err != nil {
			t.Error(err)
		}
		second <- l
	}()
	select {
	case <-second:
		t.Fatal("second candidate elected while the first leads")
	case <-time.After(300 * time.Millisecond):
	}

	st := testState(1, 0, 1, 2)
	written, err := s.PutPartitionStatesAs(ctx, l1, []PartitionState{st})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutPartitionStatesAs(ctx, l1, []PartitionState{st}); !errors.Is(err, ErrConflict) {
		t.Fatalf("second create = %v, want ErrConflict", err)
	}

	if err := l1.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l1.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Resign")
	}
	var l2 *Leadership
	select {
	case l2 = <-second:
	case <-time.After(5 * time.Second):
		t.Fatal("second candidate not elected after resign")
	}
	if id, _ := s.Controller(ctx); id != 2 {
		t.Fatalf("controller = %d, want 2", id)
	}
	next := written[0].Clone()
	next.ISR = []int32{1}
	if _, err := s.PutPartitionStatesAs(ctx, l1, []PartitionState{next}); !errors.Is(err, ErrFenced) {
		t.Fatalf("write by the old controller = %v, want ErrFenced", err)
	}
	if err := s.DeletePartitionStatesAs(ctx, l1, []PartitionID{st.ID()}); !errors.Is(err, ErrFenced) {
		t.Fatalf("delete by the old controller = %v, want ErrFenced", err)
	}
	if _, err := s.PutPartitionStatesAs(ctx, l2, []PartitionState{next}); err != nil {
		t.Fatal(err)
	}

	// Losing the session lease (as when the process stalls) ends leadership.
	if _, err := s.cli.Revoke(ctx, l2.session.Lease()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the lease was lost")
	}
	if id, _ := s.Controller(ctx); id != -1 {
		t.Fatalf("controller after lease loss = %d, want -1", id)
	}
	if err := s.DeletePartitionStatesAs(ctx, l2, []PartitionID{st.ID()}); !errors.Is(err, ErrFenced) {
		t.Fatalf("delete after lease loss = %v, want ErrFenced", err)
	}
}

func TestBrokerSessionAndWatchBrokers(t *testing.T) {
	s := openEmbedded(t, t.TempDir())
	ctx := testCtx(t)
	updates := make(chan []BrokerInfo, 16)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = s.WatchBrokers(wctx, func(b []BrokerInfo) { updates <- b }) }()
	next := func() []BrokerInfo {
		t.Helper()
		select {
		case b := <-updates:
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("no broker update")
			return nil
		}
	}
	if b := next(); len(b) != 0 {
		t.Fatalf("initial brokers %+v", b)
	}
	regCtx, unregister := context.WithCancel(ctx)
	b1 := BrokerInfo{NodeID: 1, Host: "h1", Port: 1, Rack: "a"}
	start := time.Now()
	bs, err := s.RegisterBrokerSession(regCtx, b1, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if v := bs.ValidUntil(); v.Before(start.Add(500*time.Millisecond)) || v.After(time.Now().Add(2*time.Second)) {
		t.Fatalf("ValidUntil %v not about start+1s (%v)", v, start)
	}
	b := next()
	if !slices.Equal(plainBrokers(b), []BrokerInfo{b1}) {
		t.Fatalf("after register %+v", b)
	}
	if b[0].Incarnation == 0 || b[0].Incarnation != bs.Incarnation() || b[0].Revision != bs.Revision() {
		t.Fatalf("watched registration %+v; session incarnation %d revision %d", b[0], bs.Incarnation(), bs.Revision())
	}
	registered := b[0]
	// Keep-alives (every ttl/3) push ValidUntil forward.
	first := bs.ValidUntil()
	waitFor(t, 3*time.Second, func() bool { return bs.ValidUntil().After(first) })

	if err := bs.SetShuttingDown(ctx); err != nil {
		t.Fatal(err)
	}
	b1.ShuttingDown = true
	if b = next(); !slices.Equal(plainBrokers(b), []BrokerInfo{b1}) {
		t.Fatalf("after SetShuttingDown %+v", b)
	}
	// Same incarnation (same lease), a later mod revision; the session's
	// registration revision is unchanged.
	if b[0].Incarnation != registered.Incarnation || b[0].Revision <= registered.Revision || bs.Revision() != registered.Revision {
		t.Fatalf("after SetShuttingDown %+v, registered %+v, session revision %d", b[0], registered, bs.Revision())
	}
	// The shutting-down registration stays alive on the same lease.
	time.Sleep(2500 * time.Millisecond)
	if b, _ := s.ListBrokers(ctx); !slices.Equal(plainBrokers(b), []BrokerInfo{b1}) {
		t.Fatalf("registration after 2.5s: %+v", b)
	}
	unregister()
	if b := next(); len(b) != 0 {
		t.Fatalf("after unregister %+v", b)
	}
	select {
	case <-bs.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("session Done not closed")
	}
}
