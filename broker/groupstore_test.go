package broker

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/broker/group"
	"github.com/strata-io/strata/metastore"
)

func commitOne(t *testing.T, c *group.Coordinator, g string, offset int64) int16 {
	t.Helper()
	req := kmsg.NewPtrOffsetCommitRequest()
	req.SetVersion(8)
	req.Group, req.Generation = g, -1
	req.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: offset}}}}
	ch := make(chan *kmsg.OffsetCommitResponse, 1)
	c.OffsetCommit(req, func(r *kmsg.OffsetCommitResponse) { ch <- r })
	select {
	case r := <-ch:
		return r.Topics[0].Partitions[0].ErrorCode
	case <-time.After(10 * time.Second):
		t.Fatal("no OffsetCommit response")
		return 0
	}
}

// Two coordinators on one etcd race on a group: after the second claims it,
// the first's commit is fenced (ErrFenced in the store, NOT_COORDINATOR on
// the wire) and the stored offset is the second's.
func TestGroupCoordinatorsRaceFencedInEtcd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	meta, err := metastore.Open(ctx, "embedded", t.TempDir(), quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	store := groupStore{meta}
	newCoord := func() *group.Coordinator {
		c, err := group.New(ctx, group.Config{Logger: quietLogger()}, store)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	both := []group.Node{{ID: 1, Incarnation: 1}, {ID: 2, Incarnation: 1}}
	g := ""
	for i := 0; g == ""; i++ {
		if name := "race-" + string(rune('a'+i)); group.Owner(name, both) == 2 {
			g = name
		}
	}

	a, b := newCoord(), newCoord()
	a.Place(1, both[:1], nil) // a's view: it alone coordinates
	if code := commitOne(t, a, g, 10); code != 0 {
		t.Fatalf("first owner commit: %v", kerr.ErrorForCode(code))
	}
	b.Place(2, both, nil) // b gains g and claims it
	deadline := time.Now().Add(10 * time.Second)
	for {
		if o, _, err := meta.GroupOwnerOf(ctx, g); err == nil && o.NodeID == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never claimed the group")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code := commitOne(t, b, g, 20); code != 0 {
		t.Fatalf("new owner commit: %v", kerr.ErrorForCode(code))
	}
	if code := commitOne(t, a, g, 11); code != kerr.NotCoordinator.Code {
		t.Fatalf("stale owner commit: %v, want NOT_COORDINATOR", kerr.ErrorForCode(code))
	}
	offs, err := meta.FetchOffsets(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if o := offs[metastore.OffsetKey{Group: g, Topic: "t", Partition: 0}]; o.Offset != 20 {
		t.Fatalf("stored offset %d, want the new owner's 20", o.Offset)
	}

	// At the store level, a's claim revision is dead.
	_, revB, err := meta.GroupOwnerOf(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	err = store.CommitOffsets(ctx, g, revB-1, map[group.OffsetKey]group.Offset{{Group: g, Topic: "t"}: {Offset: 12}})
	if !errors.Is(err, group.ErrFenced) || !errors.Is(err, metastore.ErrFenced) {
		t.Fatalf("commit under an old claim = %v, want ErrFenced", err)
	}
}
