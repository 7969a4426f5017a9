package replica

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/broker/wire"
)

// fakeLeader is an in-process Kafka listener that answers the follower's
// Fetch, OffsetForLeaderEpoch and ListOffsets from real partition logs,
// following Kafka's leader rules (epoch fencing, KIP-320 divergence).
type fakeLeader struct {
	t    *testing.T
	ln   net.Listener
	addr string

	mu    sync.Mutex
	logs  map[string]map[int32]*partlog.Log
	epoch int32 // the leader epoch it serves
	// undefinedEpochs makes OffsetForLeaderEpoch answer UNDEFINED, so the
	// follower only learns of divergence from Fetch's DivergingEpoch.
	undefinedEpochs bool
	conns           map[net.Conn]struct{}

	fetches   atomic.Int64
	replicaID atomic.Int32
	clientID  atomic.Value
	wg        sync.WaitGroup
}

func newFakeLeader(t *testing.T, addr string, epoch int32) *fakeLeader {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // a restarted leader may wait for its old port
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	l := &fakeLeader{t: t, ln: ln, addr: ln.Addr().String(), logs: map[string]map[int32]*partlog.Log{}, epoch: epoch, conns: map[net.Conn]struct{}{}}
	l.replicaID.Store(-100)
	l.wg.Add(1)
	go l.accept()
	t.Cleanup(l.stop)
	return l
}

func (l *fakeLeader) add(topic string, part int32, lg *partlog.Log) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.logs[topic] == nil {
		l.logs[topic] = map[int32]*partlog.Log{}
	}
	l.logs[topic][part] = lg
}

func (l *fakeLeader) log(topic string, part int32) *partlog.Log {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.logs[topic][part]
}

// stop closes the listener and every connection (a crashed leader).
func (l *fakeLeader) stop() {
	l.ln.Close()
	l.mu.Lock()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

func (l *fakeLeader) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		l.conns[c] = struct{}{}
		l.mu.Unlock()
		l.wg.Add(1)
		go l.serve(c)
	}
}

func (l *fakeLeader) serve(c net.Conn) {
	defer l.wg.Done()
	defer c.Close()
	for {
		frame, err := wire.ReadFrame(c, 1<<20, nil)
		if err != nil {
			return
		}
		h, err := wire.ParseHeaderPrefix(frame)
		if err != nil {
			l.t.Errorf("fake leader: %v", err)
			return
		}
		req := kmsg.RequestForKey(h.Key)
		if req == nil {
			l.t.Errorf("fake leader: unknown key %d", h.Key)
			return
		}
		req.SetVersion(h.Version)
		if err := wire.ParseRequest(frame, &h, req); err != nil {
			l.t.Errorf("fake leader: %v", err)
			return
		}
		l.clientID.Store(h.ClientID)
		var resp kmsg.Response
		switch r := req.(type) {
		case *kmsg.FetchRequest:
			resp = l.fetch(r)
		case *kmsg.OffsetForLeaderEpochRequest:
			resp = l.offsetForLeaderEpoch(r)
		case *kmsg.ListOffsetsRequest:
			resp = l.listOffsets(r)
		default:
			l.t.Errorf("fake leader: unexpected %s", kmsg.NameForKey(h.Key))
			return
		}
		if _, err := c.Write(wire.AppendResponse(nil, h.CorrelationID, resp)); err != nil {
			return
		}
	}
}

// epochCode checks a request's current leader epoch against ours.
func (l *fakeLeader) epochCode(current int32) int16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case current < l.epoch:
		return kerr.FencedLeaderEpoch.Code
	case current > l.epoch:
		return kerr.UnknownLeaderEpoch.Code
	}
	return 0
}

func (l *fakeLeader) fetch(req *kmsg.FetchRequest) kmsg.Response {
	l.fetches.Add(1)
	l.replicaID.Store(req.ReplicaID)
	if req.Version != fetchVersion || req.SessionID != 0 || req.SessionEpoch != -1 || req.MinBytes != 1 {
		l.t.Errorf("fake leader: fetch v%d session %d/%d min bytes %d", req.Version, req.SessionID, req.SessionEpoch, req.MinBytes)
	}
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	anyData := false
	for _, rt := range req.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			lg := l.log(rt.Topic, rp.Partition)
			switch {
			case lg == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case l.epochCode(rp.CurrentLeaderEpoch) != 0:
				sp.ErrorCode = l.epochCode(rp.CurrentLeaderEpoch)
			default:
				l.fetchPartition(lg, rp, &sp)
				anyData = anyData || len(sp.RecordBatches) > 0
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	if !anyData {
		// A short long-poll: enough to keep an idle follower from spinning.
		time.Sleep(min(time.Duration(req.MaxWaitMillis)*time.Millisecond, 20*time.Millisecond))
	}
	return resp
}

func (l *fakeLeader) fetchPartition(lg *partlog.Log, rp kmsg.FetchRequestTopicPartition, sp *kmsg.FetchResponseTopicPartition) {
	start, end := lg.LogStartOffset(), lg.LogEndOffset()
	sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = end, end, start
	if rp.FetchOffset < start || rp.FetchOffset > end {
		sp.ErrorCode = kerr.OffsetOutOfRange.Code
		sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
		return
	}
	if rp.LastFetchedEpoch >= 0 {
		e, eEnd := lg.EndOffsetForEpoch(rp.LastFetchedEpoch)
		if e < rp.LastFetchedEpoch || eEnd < rp.FetchOffset {
			sp.DivergingEpoch.Epoch, sp.DivergingEpoch.EndOffset = e, eEnd
			return
		}
	}
	if rp.FetchOffset == end {
		return
	}
	data, err := lg.Read(rp.FetchOffset, int(rp.PartitionMaxBytes))
	if err != nil {
		sp.ErrorCode = kerr.KafkaStorageError.Code
		return
	}
	sp.RecordBatches = data
}

func (l *fakeLeader) offsetForLeaderEpoch(req *kmsg.OffsetForLeaderEpochRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	l.replicaID.Store(req.ReplicaID)
	l.mu.Lock()
	undefined := l.undefinedEpochs
	l.mu.Unlock()
	for _, rt := range req.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch, sp.EndOffset = -1, -1
			lg := l.log(rt.Topic, rp.Partition)
			switch {
			case lg == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case l.epochCode(rp.CurrentLeaderEpoch) != 0:
				sp.ErrorCode = l.epochCode(rp.CurrentLeaderEpoch)
			case !undefined:
				sp.LeaderEpoch, sp.EndOffset = lg.EndOffsetForEpoch(rp.LeaderEpoch)
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

func (l *fakeLeader) listOffsets(req *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			lg := l.log(rt.Topic, rp.Partition)
			switch {
			case lg == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.Timestamp == -1:
				sp.Offset = lg.LogEndOffset()
			case rp.Timestamp == -2:
				sp.Offset = lg.LogStartOffset()
			default:
				sp.ErrorCode = kerr.InvalidRequest.Code
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// testPart adapts a partlog.Log to Partition and fails the test when it is
// touched after being unfollowed.
type testPart struct {
	*partlog.Log
	t      *testing.T
	topic  string
	part   int32
	hw, ls atomic.Int64
	gone   atomic.Bool // set once Unfollow returned
}

func newTestPart(t *testing.T, topic string, part int32) *testPart {
	t.Helper()
	lg, err := partlog.Open(t.TempDir(), partlog.Config{SegmentBytes: 4096}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	p := &testPart{Log: lg, t: t, topic: topic, part: part}
	p.hw.Store(-1)
	return p
}

func (p *testPart) Topic() string     { return p.topic }
func (p *testPart) TopicID() [16]byte { return [16]byte{1, 2, 3} }
func (p *testPart) Partition() int32  { return p.part }
func (p *testPart) touched(op string) {
	if p.gone.Load() {
		p.t.Errorf("%s on an unfollowed partition", op)
	}
}

func (p *testPart) AppendReplica(b []byte) (int64, error) {
	p.touched("AppendReplica")
	return p.Log.AppendReplica(b)
}

func (p *testPart) TruncateTo(off int64) error {
	p.touched("TruncateTo")
	_, err := p.Log.TruncateTo(off)
	return err
}

func (p *testPart) ResetTo(logStart, next int64) error {
	p.touched("ResetTo")
	if p.LogEndOffset() > p.LogStartOffset() {
		if _, err := p.Log.TruncateTo(p.LogStartOffset()); err != nil {
			return err
		}
	}
	return p.Log.ResetTo(logStart, next)
}

func (p *testPart) SetLeaderState(hw, ls int64) {
	p.touched("SetLeaderState")
	p.hw.Store(hw)
	p.ls.Store(ls)
}

// appendN appends n two-record batches to lg in epoch, with values tagged
// by tag so different logs have different bytes.
func appendN(t *testing.T, lg *partlog.Log, n int, epoch int32, tag byte) {
	t.Helper()
	for i := range n {
		if _, err := lg.Append(testBatch(2, tag, i), epoch); err != nil {
			t.Fatal(err)
		}
	}
}

func openLog(t *testing.T) *partlog.Log {
	t.Helper()
	lg, err := partlog.Open(t.TempDir(), partlog.Config{SegmentBytes: 4096}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	return lg
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sameLog fails unless both logs hold the same bytes from offset 0.
func sameLog(t *testing.T, leader, follower *partlog.Log) {
	t.Helper()
	if leader.LogEndOffset() != follower.LogEndOffset() {
		t.Fatalf("log ends differ: leader %d follower %d", leader.LogEndOffset(), follower.LogEndOffset())
	}
	for off := leader.LogStartOffset(); off < leader.LogEndOffset(); {
		a, err1 := leader.Read(off, 1<<20)
		b, err2 := follower.Read(off, 1<<20)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		n := min(len(a), len(b))
		if n == 0 || string(a[:n]) != string(b[:n]) {
			t.Fatalf("logs differ at offset %d", off)
		}
		bs, err := partlog.SplitBatches(wholeBatches(a[:n], off))
		if err != nil || len(bs) == 0 {
			t.Fatalf("split at %d: %v", off, err)
		}
		h, _ := partlog.ParseBatchHeader(bs[len(bs)-1])
		off = h.LastOffset() + 1
	}
}
