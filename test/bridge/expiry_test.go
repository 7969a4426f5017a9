package bridge

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/broker/bridge"
	"github.com/strata-io/strata/test/bridge/bridgetest"
)

// TestIdleInstanceLeavesGroup: an idle consumer instance expires, commits
// what it consumed (auto-commit) and leaves its group on the real broker.
func TestIdleInstanceLeavesGroup(t *testing.T) {
	b := startBroker(t)
	const idle = 1500 * time.Millisecond
	br, err := bridge.New(bridge.Config{Brokers: []string{b.Addr}, ConsumerIdleTimeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(br.Handler())
	t.Cleanup(func() { srv.Close(); br.Close() })
	c := bridgetest.NewClient(srv.URL)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "expiry"); err != nil {
		t.Fatal(err)
	}
	c.Expect(t, 200, "POST", "/topics/expiry/partitions/0", `{"records":[{"value":"a"},{"value":"b"}]}`, "Content-Type", bridgetest.Text)
	c.Expect(t, 200, "POST", "/consumers/eg", `{"name":"e","auto.offset.reset":"earliest","format":"text"}`)
	path := "/consumers/eg/instances/e"
	c.Expect(t, 204, "POST", path+"/subscription", `{"topics":["expiry"]}`)
	var n int
	for n < 2 && ctx.Err() == nil {
		var recs []bridgetest.Record
		c.Expect(t, 200, "GET", path+"/records?timeout=500", nil).Decode(t, &recs)
		n += len(recs)
	}
	members := func() (string, int) {
		gs, err := adm.DescribeGroups(ctx, "eg")
		if err != nil {
			t.Fatal(err)
		}
		g := gs["eg"]
		if g.Err != nil {
			t.Fatal(g.Err)
		}
		return g.State, len(g.Members)
	}
	if state, m := members(); m != 1 {
		t.Fatalf("group eg: state %s with %d members while the instance polls, want 1", state, m)
	}
	time.Sleep(idle + time.Second)
	c.Expect(t, 404, "GET", path+"/records", nil)
	if state, m := members(); m != 0 {
		t.Fatalf("group eg: state %s with %d members after expiry, want 0", state, m)
	}
	offs, err := adm.FetchOffsets(ctx, "eg")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("expiry", 0); !ok || o.At != 2 {
		t.Fatalf("committed %+v (found %v), want offset 2 committed on expiry", o, ok)
	}
}
