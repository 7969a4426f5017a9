package upload

import (
	"context"
	"testing"
	"time"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/objstore/mem"
)

// While a partition keeps taking appends, sealed segments wait (under the
// backlog bound); once appends stop for BusyWindow they are uploaded.
func TestUploadsYieldToBusyProduce(t *testing.T) {
	man := newFakeManifest(&events{})
	p := newPartition(t, 4, partlog.Config{})
	cfg := testConfig()
	cfg.BusyWindow = 300 * time.Millisecond
	u := New(cfg, mem.New(), man, testLogger(t))
	defer u.Close()
	u.Track(p)
	ctx, stop := context.WithCancel(context.Background())
	produced := make(chan struct{})
	go func() { // a producer appending every 20 ms for 1.5 s
		defer close(produced)
		for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end) && ctx.Err() == nil; {
			appendN(t, p, 1, time.Now().UnixMilli())
			time.Sleep(20 * time.Millisecond)
		}
	}()
	defer func() { stop(); <-produced }()
	waitFor(t, "produce seen as busy", u.Busy)
	// A segment sealed before the first activity sample may have gone.
	before := len(man.list(p))
	time.Sleep(time.Second)
	seg, ok := p.log.NextSealedSegment(p.log.UploadedOffset())
	if !ok {
		t.Fatal("no sealed segment waiting after a second of appends")
	}
	if n := len(man.list(p)); n != before {
		t.Fatalf("%d segments uploaded while produce was busy (segment %d waiting)", n-before, seg.BaseOffset)
	}
	<-produced
	waitFor(t, "produce idle", func() bool { return !u.Busy() })
	waitFor(t, "segments uploaded after produce stopped", func() bool { return len(man.list(p)) > 0 })

	// Over the backlog bound nothing waits, busy or not.
	man2 := newFakeManifest(&events{})
	p2 := newPartition(t, 4, partlog.Config{})
	cfg.DeferWhileBusyBytes = 1
	u2 := New(cfg, mem.New(), man2, testLogger(t))
	defer u2.Close()
	u2.Track(p2)
	appendN(t, p2, 9, time.Now().UnixMilli())
	waitFor(t, "busy", u2.Busy)
	waitFor(t, "segments uploaded over the bound", func() bool { return len(man2.list(p2)) == 2 })
}
