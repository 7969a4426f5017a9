package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/test/harness"
)

func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// gauges returns family's values keyed by the given labels joined with "/".
func gauges(fams map[string]*dto.MetricFamily, family string, labels ...string) map[string]float64 {
	out := map[string]float64{}
	f := fams[family]
	if f == nil {
		return out
	}
	for _, m := range f.GetMetric() {
		var key []string
		for _, l := range labels {
			key = append(key, label(m, l))
		}
		out[strings.Join(key, "/")] = m.GetGauge().GetValue()
	}
	return out
}

func TestMetricsLagAndLint(t *testing.T) {
	b := harness.StartT(t, harness.Options{Args: []string{"--group-initial-rebalance-delay", "0s"}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic("lagging"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, "lagging"); err != nil {
		t.Fatal(err)
	}
	// Traffic: 100, 200 and 300 records on partitions 0, 1 and 2.
	var recs []*kgo.Record
	for p := int32(0); p < 3; p++ {
		for i := 0; i < int(p+1)*100; i++ {
			recs = append(recs, &kgo.Record{Partition: p, Value: []byte(fmt.Sprintf("r%d", i))})
		}
	}
	cl2, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic("lagging"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	if err := cl2.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// A group consumes part of the topic and commits what it consumed.
	consumer, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumerGroup("laggers"), kgo.ConsumeTopics("lagging"),
		kgo.DisableAutoCommit(), kgo.FetchMaxBytes(1000), kgo.FetchMaxPartitionBytes(1000))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for got < 50 {
		fs := consumer.PollRecords(ctx, 50-got)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
		if err := consumer.CommitUncommittedOffsets(ctx); err != nil {
			t.Fatal(err)
		}
	}
	consumer.Close()
	// And a second group with explicit offsets, so every partition lags.
	offs := kadm.Offsets{}
	offs.AddOffset("lagging", 0, 10, -1)
	offs.AddOffset("lagging", 1, 20, -1)
	offs.AddOffset("lagging", 2, 299, -1)
	if _, err := adm.CommitOffsets(ctx, "explicit", offs); err != nil {
		t.Fatal(err)
	}
	committed := map[string]map[int32]int64{}
	for _, g := range []string{"laggers", "explicit"} {
		fetched, err := adm.FetchOffsets(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		committed[g] = map[int32]int64{}
		fetched.Each(func(o kadm.OffsetResponse) {
			if o.Topic == "lagging" {
				committed[g][o.Partition] = o.At
			}
		})
	}
	ends, err := adm.ListEndOffsets(ctx, "lagging")
	if err != nil {
		t.Fatal(err)
	}

	fams := scrape(t, b.HTTPAddr)
	lag := gauges(fams, "strata_consumer_group_lag", "group", "topic", "partition")
	logEnd := gauges(fams, "strata_log_end_offset", "topic", "partition")
	for g, parts := range committed {
		if len(parts) == 0 {
			t.Fatalf("group %s committed nothing", g)
		}
		for p, c := range parts {
			end, _ := ends.Lookup("lagging", p)
			key := fmt.Sprintf("%s/lagging/%d", g, p)
			want := float64(end.Offset - c)
			if v, ok := lag[key]; !ok || v != want {
				t.Errorf("lag %s = %v (present %v), want log end %d - committed %d = %v", key, v, ok, end.Offset, c, want)
			}
			if v := logEnd[fmt.Sprintf("lagging/%d", p)]; v != float64(end.Offset) {
				t.Errorf("log end offset of partition %d = %v, want %d", p, v, end.Offset)
			}
		}
	}
	if lag["explicit/lagging/2"] != 1 {
		t.Errorf("explicit/lagging/2 lag = %v, want 1", lag["explicit/lagging/2"])
	}

	// Traffic counters moved.
	var bytesIn float64
	for _, m := range fams["strata_topic_bytes_in_total"].GetMetric() {
		if label(m, "topic") == "lagging" {
			bytesIn = m.GetCounter().GetValue()
		}
	}
	if bytesIn <= 0 {
		t.Errorf("strata_topic_bytes_in_total{topic=lagging} = %v", bytesIn)
	}
	produced := false
	for _, m := range fams["strata_requests_total"].GetMetric() {
		if label(m, "api") == "Produce" && m.GetCounter().GetValue() > 0 {
			produced = true
		}
	}
	if !produced {
		t.Error("strata_requests_total has no Produce requests")
	}
	if fams["strata_request_duration_seconds"] == nil || fams["strata_connections"] == nil || fams["go_goroutines"] == nil || fams["strata_etcd_request_duration_seconds"] == nil {
		t.Error("missing request latency, connection, etcd or Go runtime metrics")
	}

	// Every metric passes Prometheus' lint rules.
	resp, err := http.Get("http://" + b.HTTPAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	problems, err := promlint.New(resp.Body).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestHealthAndReady(t *testing.T) {
	b := harness.StartT(t, harness.Options{})
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + b.HTTPAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s", path, resp.Status)
		}
	}
}

// TestDashboardUsesRealMetrics checks every metric the Grafana dashboard
// queries exists on a running broker's /metrics.
func TestDashboardUsesRealMetrics(t *testing.T) {
	root, err := harness.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "docs", "grafana", "strata-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	b := harness.StartT(t, harness.Options{})
	// Some traffic and a committed offset so every family has samples.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic("dash"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	offs := kadm.Offsets{}
	offs.AddOffset("dash", 0, 0, -1)
	if _, err := kadm.NewClient(cl).CommitOffsets(ctx, "dash-group", offs); err != nil {
		t.Fatal(err)
	}
	fams := scrape(t, b.HTTPAddr)
	name := regexp.MustCompile(`\b(strata_[a-z0-9_]+|go_[a-z0-9_]+|process_[a-z0-9_]+)`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range name.FindAllString(tg.Expr, -1) {
				n++
				base := strings.TrimSuffix(m, "_bucket")
				if fams[base] == nil && fams[m] == nil && !declared(t, root, base) {
					t.Errorf("panel %q queries %s, which /metrics does not expose and no code declares", p.Title, m)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("dashboard references only %d metrics", n)
	}
}

// declared reports whether a Go file of the broker or metastore declares
// the metric: error counters have no samples until an error happens.
func declared(t *testing.T, root, name string) bool {
	t.Helper()
	for _, dir := range []string{"broker", "metastore", "objstore", "tiering/upload", "tiering/remote"} {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(src), `Name: "`+name+`"`) || strings.Contains(string(src), `Name:    "`+name+`"`) {
				return true
			}
		}
	}
	return false
}
