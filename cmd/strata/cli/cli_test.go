package cli

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFormatRecord(t *testing.T) {
	r := &kgo.Record{Topic: "t", Partition: 2, Offset: 41, Key: []byte("k"), Value: []byte("v"),
		Timestamp: time.UnixMilli(1700000000123), Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}}}
	for _, tc := range []struct{ format, want string }{
		{`%v\n`, "v\n"},
		{`%k=%v %p/%o %t %T [%h]`, "k=v 2/41 1700000000123 t [a=1,b=2]"},
		{`100%% %x\t\\ \q trailing%`, "100% %x\t\\ \\q trailing%"},
	} {
		if got := string(formatRecord(nil, tc.format, r)); got != tc.want {
			t.Errorf("format %q = %q, want %q", tc.format, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 1000; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	slices.Sort(ds)
	for q, want := range map[float64]time.Duration{0.5: 501 * time.Millisecond, 0.99: 991 * time.Millisecond, 0.999: 1000 * time.Millisecond} {
		if got := percentile(ds, q); got != want {
			t.Errorf("p%v = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("empty percentile should be 0")
	}
}

func TestPerfStatsSampling(t *testing.T) {
	now := time.Now()
	s := newPerfStats(2_000_000, now)
	for i := int64(0); i < 2_000_000; i++ {
		s.record(i, time.Millisecond, 10)
	}
	rep := s.report(now.Add(2 * time.Second))
	if len(s.samples) != maxLatencySamples || rep.Records != 2_000_000 || rep.RecordsPerSec != 1_000_000 || rep.P999Ms != 1 {
		t.Fatalf("samples %d, report %+v", len(s.samples), rep)
	}
	if line := s.progress(now.Add(time.Second)); !strings.HasPrefix(line, "2000000 records sent, ") {
		t.Fatalf("progress %q", line)
	}
	if line := s.progress(now.Add(2 * time.Second)); !strings.HasPrefix(line, "0 records sent") {
		t.Fatalf("progress window not reset: %q", line)
	}
}

func TestParseInterspersed(t *testing.T) {
	e := &env{stderr: &bytes.Buffer{}}
	fs, c := newFlagSet(e, "x", "")
	n := fs.Int("n", 0, "")
	pos, err := parse(fs, c, []string{"a", "--n", "3", "b", "--output", "json", "--", "--c"})
	if err != nil || *n != 3 || c.output != "json" || !slices.Equal(pos, []string{"a", "b", "--c"}) {
		t.Fatalf("pos %v n %d output %s err %v", pos, *n, c.output, err)
	}
	var ue *usageError
	if _, err := parse(fs, c, []string{"--bogus"}); !errors.As(err, &ue) {
		t.Fatalf("unknown flag: %v", err)
	}
}

func TestParseHelpers(t *testing.T) {
	rt, err := parseResetTopic("t:0,2")
	if err != nil || rt.topic != "t" || !slices.Equal(rt.partitions, []int32{0, 2}) {
		t.Fatalf("%+v %v", rt, err)
	}
	if _, err := parseResetTopic("t:x"); err == nil {
		t.Fatal("bad partition accepted")
	}
	if ts, err := parseDatetime("2024-05-01T12:00:00"); err != nil || ts.Unix() != 1714564800 {
		t.Fatalf("%v %v", ts, err)
	}
	if _, err := producerOpts("2", "none"); err == nil {
		t.Fatal("acks=2 accepted")
	}
	if _, err := producerOpts("all", "zstd"); err != nil {
		t.Fatal(err)
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	ctx := context.Background()
	if code := Run(ctx, []string{"nope"}, nil, &out, &errb); code != ExitUsage {
		t.Fatalf("unknown command: %d", code)
	}
	errb.Reset()
	start := time.Now()
	code := Run(ctx, []string{"topic", "list", "--brokers", "127.0.0.1:1"}, nil, &out, &errb)
	if code != ExitError || !strings.Contains(errb.String(), "cannot reach any broker") || time.Since(start) > 5*time.Second {
		t.Fatalf("unreachable: code %d after %s: %s", code, time.Since(start), errb.String())
	}
}
