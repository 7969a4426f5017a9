package bridgetest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Env is one setup the scenario runs against.
type Env struct {
	BaseURL string   // the bridge
	Brokers []string // the Kafka cluster behind it, for setup and checks
}

// OffsetResult is one record's produce outcome.
type OffsetResult struct {
	Partition *int32 `json:"partition"`
	Offset    *int64 `json:"offset"`
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

// Record is one record of a records response.
type Record struct {
	Topic     string          `json:"topic"`
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Partition int32           `json:"partition"`
	Offset    int64           `json:"offset"`
	Timestamp int64           `json:"timestamp"`
	Headers   []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"headers"`
}

// Run runs every scenario as a subtest.
func Run(t *testing.T, env Env) {
	s := &scenario{env: env, c: NewClient(env.BaseURL)}
	t.Run("Produce", s.produce)
	t.Run("TopicsAndOffsets", s.topics)
	t.Run("ConsumeAndCommit", s.consumeAndCommit)
	t.Run("AutoCommit", s.autoCommit)
	t.Run("JSONConsumer", s.jsonConsumer)
	t.Run("MaxBytes", s.maxBytes)
	t.Run("Seek", s.seek)
	t.Run("Errors", s.errors)
}

type scenario struct {
	env Env
	c   *Client
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func unb64(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a JSON string: %v", raw, err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("%q is not base64: %v", s, err)
	}
	return string(b)
}

func unique(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func (s *scenario) admin(t testing.TB) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.env.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// createTopic creates a fresh topic with n partitions and returns its name.
func (s *scenario) createTopic(t testing.TB, prefix string, n int32) string {
	t.Helper()
	name := unique(prefix)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := s.admin(t).CreateTopic(ctx, n, 1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	// Wait until the bridge sees it.
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := s.c.Do(t, "GET", "/topics/"+name, nil)
		if r.Status == http.StatusOK {
			return name
		}
		if time.Now().After(deadline) {
			t.Fatalf("topic %s never appeared through the bridge: %d %s", name, r.Status, r.Body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// committed returns the group's committed offset for topic/partition, or -1.
func (s *scenario) committed(t testing.TB, group, topic string, partition int32) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	offs, err := s.admin(t).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	o, ok := offs.Lookup(topic, partition)
	if !ok {
		return -1
	}
	if o.Err != nil {
		t.Fatalf("fetch offsets of %s: %s/%d: %v", group, topic, partition, o.Err)
	}
	return o.At
}

func (s *scenario) produceBinary(t testing.TB, topic string, n int, size int) {
	t.Helper()
	var recs []map[string]any
	for i := range n {
		v := fmt.Sprintf("value-%d-", i)
		v += strings.Repeat("x", max(0, size-len(v)))
		recs = append(recs, map[string]any{
			"key": b64(fmt.Sprintf("key-%d", i)), "value": b64(v),
			"headers": []map[string]string{{"key": "idx", "value": b64(fmt.Sprint(i))}},
		})
	}
	r := s.c.Expect(t, 200, "POST", "/topics/"+topic, map[string]any{"records": recs}, "Content-Type", Binary)
	var out struct{ Offsets []OffsetResult }
	r.Decode(t, &out)
	if len(out.Offsets) != n {
		t.Fatalf("produce: %d results for %d records: %s", len(out.Offsets), n, r.Body)
	}
	for i, o := range out.Offsets {
		if o.ErrorCode != 0 || o.Offset == nil {
			t.Fatalf("produce record %d failed: %s", i, r.Body)
		}
	}
}

// createConsumer creates an instance and subscribes it to topic.
func (s *scenario) createConsumer(t testing.TB, group, name string, cfg map[string]any, topic string) string {
	t.Helper()
	body := map[string]any{"name": name, "auto.offset.reset": "earliest"}
	for k, v := range cfg {
		body[k] = v
	}
	r := s.c.Expect(t, 200, "POST", "/consumers/"+group, body, "Content-Type", V2)
	var created struct {
		InstanceID string `json:"instance_id"`
		BaseURI    string `json:"base_uri"`
	}
	r.Decode(t, &created)
	path := "/consumers/" + group + "/instances/" + name
	if created.InstanceID != name || !strings.HasSuffix(created.BaseURI, path) || !strings.HasPrefix(created.BaseURI, "http") {
		t.Fatalf("create consumer: %s", r.Body)
	}
	s.c.Expect(t, 204, "POST", path+"/subscription", map[string]any{"topics": []string{topic}}, "Content-Type", V2)
	return path
}

// pollN polls until n records arrived (in order per partition).
func (s *scenario) pollN(t testing.TB, path string, n int, accept string) []Record {
	t.Helper()
	var got []Record
	deadline := time.Now().Add(45 * time.Second)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("polled %d records of %d before the deadline", len(got), n)
		}
		r := s.c.Expect(t, 200, "GET", path+"/records?timeout=1000", nil, "Accept", accept)
		var recs []Record
		r.Decode(t, &recs)
		got = append(got, recs...)
	}
	if len(got) != n {
		t.Fatalf("polled %d records, want %d", len(got), n)
	}
	return got
}

func (s *scenario) produce(t *testing.T) {
	topic := s.createTopic(t, "bridge-produce", 3)
	// Embedded JSON: key hashed, explicit partition, headers, a tombstone.
	body := `{"records":[
		{"key":"user-1","value":{"name":"ada","n":1},"headers":[{"key":"h1","value":"` + b64("hv") + `"}]},
		{"value":[1,2,3],"partition":2},
		{"key":"user-1","value":null},
		{"value":"x","partition":7}
	]}`
	r := s.c.Expect(t, 200, "POST", "/topics/"+topic, body, "Content-Type", JSON)
	var out struct{ Offsets []OffsetResult }
	r.Decode(t, &out)
	if len(out.Offsets) != 4 {
		t.Fatalf("want 4 results: %s", r.Body)
	}
	for i := range 3 {
		if out.Offsets[i].ErrorCode != 0 || out.Offsets[i].Partition == nil || out.Offsets[i].Offset == nil {
			t.Fatalf("record %d: %s", i, r.Body)
		}
	}
	if *out.Offsets[1].Partition != 2 || *out.Offsets[1].Offset != 0 {
		t.Errorf("explicit partition record: got %d@%d, want 2@0", *out.Offsets[1].Partition, *out.Offsets[1].Offset)
	}
	if *out.Offsets[0].Partition != *out.Offsets[2].Partition {
		t.Errorf("same key went to partitions %d and %d", *out.Offsets[0].Partition, *out.Offsets[2].Partition)
	}
	if *out.Offsets[2].Offset != *out.Offsets[0].Offset+1 {
		t.Errorf("same key offsets %d then %d", *out.Offsets[0].Offset, *out.Offsets[2].Offset)
	}
	if out.Offsets[3].ErrorCode != 404 || out.Offsets[3].Message == "" || out.Offsets[3].Offset != nil {
		t.Errorf("record to missing partition 7: %+v", out.Offsets[3])
	}

	// Binary to one partition through the partition path.
	bin := map[string]any{"records": []map[string]any{{"key": b64("k"), "value": b64("\x00\x01binary")}, {"value": b64("two")}}}
	r = s.c.Expect(t, 200, "POST", "/topics/"+topic+"/partitions/1", bin, "Content-Type", Binary)
	out.Offsets = nil
	r.Decode(t, &out)
	for i, o := range out.Offsets {
		if o.Partition == nil || *o.Partition != 1 || o.Offset == nil || *o.Offset != *out.Offsets[0].Offset+int64(i) {
			t.Fatalf("partition produce: %s", r.Body)
		}
	}
	// Text.
	r = s.c.Expect(t, 200, "POST", "/topics/"+topic+"/partitions/0", `{"records":[{"value":"plain text"}]}`, "Content-Type", Text)
	out.Offsets = nil
	r.Decode(t, &out)
	if len(out.Offsets) != 1 || out.Offsets[0].Partition == nil || *out.Offsets[0].Partition != 0 {
		t.Fatalf("text produce: %s", r.Body)
	}

	// The data is really there, as produced.
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.env.Brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var recs []*kgo.Record
	for len(recs) < 6 && ctx.Err() == nil {
		recs = append(recs, cl.PollFetches(ctx).Records()...)
	}
	if len(recs) != 6 {
		t.Fatalf("read back %d records, want 6", len(recs))
	}
	seen := map[string]bool{}
	for _, r := range recs {
		seen[fmt.Sprintf("%d|%s|%s|%v", r.Partition, r.Key, r.Value, r.Value == nil)] = true
		if string(r.Key) == "user-1" && r.Value != nil {
			if len(r.Headers) != 1 || r.Headers[0].Key != "h1" || string(r.Headers[0].Value) != "hv" {
				t.Errorf("headers: %+v", r.Headers)
			}
			if string(r.Value) != `{"name":"ada","n":1}` {
				t.Errorf("JSON value stored as %q", r.Value)
			}
		}
	}
	for _, want := range []string{"2||[1,2,3]|false", "1|k|\x00\x01binary|false", "1||two|false", "0||plain text|false"} {
		if !seen[want] {
			t.Errorf("record %q not read back; got %v", want, seen)
		}
	}
}

func (s *scenario) topics(t *testing.T) {
	topic := s.createTopic(t, "bridge-topics", 2)
	var names []string
	s.c.Expect(t, 200, "GET", "/topics", nil).Decode(t, &names)
	if !slices.Contains(names, topic) {
		t.Fatalf("GET /topics %v lacks %s", names, topic)
	}
	var meta struct {
		Name       string `json:"name"`
		Partitions []struct {
			Partition int32 `json:"partition"`
			Leader    int32 `json:"leader"`
			Replicas  []struct {
				Broker int32 `json:"broker"`
				Leader bool  `json:"leader"`
				InSync bool  `json:"in_sync"`
			} `json:"replicas"`
		} `json:"partitions"`
	}
	s.c.Expect(t, 200, "GET", "/topics/"+topic, nil).Decode(t, &meta)
	if meta.Name != topic || len(meta.Partitions) != 2 {
		t.Fatalf("topic metadata: %+v", meta)
	}
	for i, p := range meta.Partitions {
		if p.Partition != int32(i) || len(p.Replicas) != 1 || !p.Replicas[0].Leader || !p.Replicas[0].InSync || p.Replicas[0].Broker != p.Leader {
			t.Errorf("partition %d metadata: %+v", i, p)
		}
	}
	var parts []json.RawMessage
	s.c.Expect(t, 200, "GET", "/topics/"+topic+"/partitions", nil).Decode(t, &parts)
	if len(parts) != 2 {
		t.Errorf("partitions: %d, want 2", len(parts))
	}
	s.c.Expect(t, 200, "GET", "/topics/"+topic+"/partitions/1", nil)

	s.c.Expect(t, 200, "POST", "/topics/"+topic+"/partitions/1",
		`{"records":[{"value":"a"},{"value":"b"},{"value":"c"}]}`, "Content-Type", Text)
	var offs struct {
		Beginning int64 `json:"beginning_offset"`
		End       int64 `json:"end_offset"`
	}
	s.c.Expect(t, 200, "GET", "/topics/"+topic+"/partitions/1/offsets", nil).Decode(t, &offs)
	if offs.Beginning != 0 || offs.End != 3 {
		t.Errorf("partition 1 offsets %+v, want 0..3", offs)
	}
	s.c.Expect(t, 200, "GET", "/topics/"+topic+"/partitions/0/offsets", nil).Decode(t, &offs)
	if offs.Beginning != 0 || offs.End != 0 {
		t.Errorf("partition 0 offsets %+v, want 0..0", offs)
	}
}

func (s *scenario) consumeAndCommit(t *testing.T) {
	topic := s.createTopic(t, "bridge-consume", 1)
	s.produceBinary(t, topic, 5, 10)
	group := unique("g")
	path := s.createConsumer(t, group, "c1", map[string]any{"format": "binary", "enable.auto.commit": false}, topic)

	recs := s.pollN(t, path, 5, Binary)
	for i, r := range recs {
		if r.Topic != topic || r.Partition != 0 || r.Offset != int64(i) {
			t.Fatalf("record %d: %+v", i, r)
		}
		if k := unb64(t, r.Key); k != fmt.Sprintf("key-%d", i) {
			t.Errorf("record %d key %q", i, k)
		}
		if v := unb64(t, r.Value); !strings.HasPrefix(v, fmt.Sprintf("value-%d-", i)) {
			t.Errorf("record %d value %q", i, v)
		}
		if len(r.Headers) != 1 || r.Headers[0].Key != "idx" || r.Headers[0].Value != b64(fmt.Sprint(i)) {
			t.Errorf("record %d headers %+v", i, r.Headers)
		}
		if r.Timestamp <= 0 {
			t.Errorf("record %d timestamp %d", i, r.Timestamp)
		}
	}
	// Nothing more: an empty array, not an error.
	var more []Record
	s.c.Expect(t, 200, "GET", path+"/records?timeout=200", nil, "Accept", Binary).Decode(t, &more)
	if len(more) != 0 {
		t.Fatalf("extra records: %+v", more)
	}
	if got := s.committed(t, group, topic, 0); got != -1 {
		t.Fatalf("auto-commit is off but %d is committed", got)
	}

	// Commit everything consumed (empty body).
	s.c.Expect(t, 204, "POST", path+"/offsets", nil)
	if got := s.committed(t, group, topic, 0); got != 5 {
		t.Fatalf("committed %d after committing all consumed, want 5", got)
	}
	// Commit given offsets.
	s.c.Expect(t, 204, "POST", path+"/offsets",
		map[string]any{"offsets": []map[string]any{{"topic": topic, "partition": 0, "offset": 3}}}, "Content-Type", V2)
	if got := s.committed(t, group, topic, 0); got != 3 {
		t.Fatalf("committed %d after committing offset 3", got)
	}

	var sub struct {
		Topics     []string             `json:"topics"`
		Partitions []map[string][]int32 `json:"partitions"`
	}
	s.c.Expect(t, 200, "GET", path+"/subscription", nil).Decode(t, &sub)
	if !slices.Equal(sub.Topics, []string{topic}) || len(sub.Partitions) != 1 || !slices.Equal(sub.Partitions[0][topic], []int32{0}) {
		t.Errorf("subscription: %+v", sub)
	}

	s.c.Expect(t, 204, "DELETE", path, nil)
	s.c.Expect(t, 404, "GET", path+"/records", nil)
	s.c.Expect(t, 404, "DELETE", path, nil)

	// A new instance in the group resumes from the committed offset.
	path2 := s.createConsumer(t, group, "c2", map[string]any{"format": "binary"}, topic)
	recs = s.pollN(t, path2, 2, Binary)
	if recs[0].Offset != 3 || recs[1].Offset != 4 {
		t.Errorf("resumed at %d, %d; want 3, 4", recs[0].Offset, recs[1].Offset)
	}
	s.c.Expect(t, 204, "DELETE", path2, nil)
}

func (s *scenario) autoCommit(t *testing.T) {
	topic := s.createTopic(t, "bridge-autocommit", 1)
	s.produceBinary(t, topic, 4, 10)
	group := unique("g")
	path := s.createConsumer(t, group, "auto", map[string]any{"enable.auto.commit": "true"}, topic)
	s.pollN(t, path, 4, Binary)
	// Auto-commit commits on the next poll (and on delete).
	s.c.Expect(t, 200, "GET", path+"/records?timeout=100", nil)
	if got := s.committed(t, group, topic, 0); got != 4 {
		t.Fatalf("auto-committed %d, want 4", got)
	}
	s.c.Expect(t, 204, "DELETE", path, nil)
}

func (s *scenario) jsonConsumer(t *testing.T) {
	topic := s.createTopic(t, "bridge-json", 1)
	s.c.Expect(t, 200, "POST", "/topics/"+topic,
		`{"records":[{"key":{"id":7},"value":{"a":[1,"two",null]}},{"value":"str"}]}`, "Content-Type", JSON)
	group := unique("g")
	path := s.createConsumer(t, group, "j", map[string]any{"format": "json"}, topic)
	s.c.Expect(t, 406, "GET", path+"/records?timeout=100", nil, "Accept", Binary)
	recs := s.pollN(t, path, 2, JSON)
	if string(recs[0].Key) != `{"id":7}` || string(recs[0].Value) != `{"a":[1,"two",null]}` {
		t.Errorf("json record 0: key %s value %s", recs[0].Key, recs[0].Value)
	}
	if string(recs[1].Key) != "null" || string(recs[1].Value) != `"str"` {
		t.Errorf("json record 1: key %s value %s", recs[1].Key, recs[1].Value)
	}
	s.c.Expect(t, 204, "DELETE", path, nil)
}

func (s *scenario) maxBytes(t *testing.T) {
	topic := s.createTopic(t, "bridge-maxbytes", 1)
	s.produceBinary(t, topic, 3, 100)
	group := unique("g")
	path := s.createConsumer(t, group, "m", nil, topic)
	// A record renders to roughly 250 bytes: 10 is too small for any.
	deadline := time.Now().Add(45 * time.Second)
	for {
		r := s.c.Do(t, "GET", path+"/records?timeout=1000&max_bytes=10", nil)
		if r.Status == 422 {
			if err := checkErrorBody(r, 422); err != nil {
				t.Fatal(err)
			}
			break
		}
		if r.Status != 200 || string(r.Body) != "[]\n" || time.Now().After(deadline) {
			t.Fatalf("max_bytes=10: %d %s", r.Status, r.Body)
		}
	}
	var got []Record
	for len(got) < 3 {
		var recs []Record
		s.c.Expect(t, 200, "GET", path+"/records?timeout=1000&max_bytes=400", nil).Decode(t, &recs)
		if len(recs) > 1 {
			t.Fatalf("max_bytes=400 returned %d records of ~250 bytes", len(recs))
		}
		got = append(got, recs...)
		if time.Now().After(deadline) {
			t.Fatalf("only %d records", len(got))
		}
	}
	for i, r := range got {
		if r.Offset != int64(i) {
			t.Fatalf("record %d has offset %d: records lost or reordered by max_bytes", i, r.Offset)
		}
	}
	s.c.Expect(t, 204, "DELETE", path, nil)
}

func (s *scenario) seek(t *testing.T) {
	topic := s.createTopic(t, "bridge-seek", 1)
	s.produceBinary(t, topic, 3, 10)
	group := unique("g")
	path := s.createConsumer(t, group, "s", map[string]any{"enable.auto.commit": false}, topic)
	s.pollN(t, path, 3, Binary)
	tp := map[string]any{"partitions": []map[string]any{{"topic": topic, "partition": 0}}}
	s.c.Expect(t, 204, "POST", path+"/positions/beginning", tp, "Content-Type", V2)
	recs := s.pollN(t, path, 3, Binary)
	if recs[0].Offset != 0 {
		t.Errorf("after seek to beginning got offset %d", recs[0].Offset)
	}
	s.c.Expect(t, 204, "POST", path+"/positions",
		map[string]any{"offsets": []map[string]any{{"topic": topic, "partition": 0, "offset": 2}}}, "Content-Type", V2)
	recs = s.pollN(t, path, 1, Binary)
	if recs[0].Offset != 2 {
		t.Errorf("after seek to 2 got offset %d", recs[0].Offset)
	}
	s.c.Expect(t, 409, "POST", path+"/positions",
		map[string]any{"offsets": []map[string]any{{"topic": topic, "partition": 5, "offset": 0}}}, "Content-Type", V2)
	s.c.Expect(t, 204, "DELETE", path, nil)
}

func (s *scenario) errors(t *testing.T) {
	topic := s.createTopic(t, "bridge-errors", 1)
	missing := unique("no-such-topic")
	c := s.c
	// Unknown topics and partitions.
	c.Expect(t, 404, "POST", "/topics/"+missing, `{"records":[{"value":1}]}`, "Content-Type", JSON)
	c.Expect(t, 404, "GET", "/topics/"+missing, nil)
	c.Expect(t, 404, "GET", "/topics/"+missing+"/partitions", nil)
	c.Expect(t, 404, "GET", "/topics/"+missing+"/partitions/0/offsets", nil)
	c.Expect(t, 404, "GET", "/topics/"+topic+"/partitions/9/offsets", nil)
	c.Expect(t, 404, "POST", "/topics/"+topic+"/partitions/9", `{"records":[{"value":1}]}`, "Content-Type", JSON)
	c.Expect(t, 422, "GET", "/topics/"+topic+"/partitions/x", nil)
	// Bad bodies.
	c.Expect(t, 400, "POST", "/topics/"+topic, `{"records":[{"value":`, "Content-Type", JSON)
	c.Expect(t, 400, "POST", "/topics/"+topic, `not json`, "Content-Type", JSON)
	c.Expect(t, 422, "POST", "/topics/"+topic, `{"records":[{"value":"%%%"}]}`, "Content-Type", Binary)
	c.Expect(t, 422, "POST", "/topics/"+topic, `{"records":[{"value":1,"bogus":2}]}`, "Content-Type", JSON)
	c.Expect(t, 422, "POST", "/topics/"+topic, `{"records":[{"value":1,"partition":"zero"}]}`, "Content-Type", JSON)
	c.Expect(t, 422, "POST", "/topics/"+topic, `{"records":[]}`, "Content-Type", JSON)
	c.Expect(t, 422, "POST", "/topics/"+topic, ``, "Content-Type", JSON)
	c.Expect(t, 422, "POST", "/topics/"+topic, `{"records":[{"value":"a","headers":[{"key":"h","value":"!!"}]}]}`, "Content-Type", JSON)
	c.Expect(t, 415, "POST", "/topics/"+topic, `{"records":[{"value":1}]}`, "Content-Type", "text/plain")
	// Too large: 11 MiB against the default 10 MiB limit.
	big := `{"records":[{"value":"` + strings.Repeat("a", 11<<20) + `"}]}`
	c.Expect(t, 413, "POST", "/topics/"+topic, big, "Content-Type", Text)
	// Unknown endpoints and methods.
	c.Expect(t, 404, "GET", "/topics/"+topic+"/nope", nil)
	c.Expect(t, 404, "GET", "/consumers/"+unique("g")+"/nope", nil)
	c.Expect(t, 405, "DELETE", "/topics/"+topic, nil)

	// Consumers.
	group := unique("g")
	c.Expect(t, 404, "GET", "/consumers/"+group+"/instances/ghost/records", nil)
	c.Expect(t, 404, "POST", "/consumers/"+group+"/instances/ghost/offsets", nil)
	c.Expect(t, 404, "POST", "/consumers/"+group+"/instances/ghost/subscription", `{"topics":["`+topic+`"]}`)
	c.Expect(t, 404, "DELETE", "/consumers/"+group+"/instances/ghost", nil)
	c.Expect(t, 422, "POST", "/consumers/"+group, `{"name":"x","format":"avro"}`, "Content-Type", V2)
	c.Expect(t, 422, "POST", "/consumers/"+group, `{"name":"x","auto.offset.reset":"middle"}`, "Content-Type", V2)
	c.Expect(t, 422, "POST", "/consumers/"+group, `{"name":"x","unknown.option":1}`, "Content-Type", V2)
	c.Expect(t, 422, "POST", "/consumers/"+group, `{"name":"a/b"}`, "Content-Type", V2)
	c.Expect(t, 400, "POST", "/consumers/"+group, `{"name":`, "Content-Type", V2)
	c.Expect(t, 200, "POST", "/consumers/"+group, `{"name":"dup"}`, "Content-Type", V2)
	c.Expect(t, 409, "POST", "/consumers/"+group, `{"name":"dup"}`, "Content-Type", V2)
	path := "/consumers/" + group + "/instances/dup"
	c.Expect(t, 409, "GET", path+"/records", nil)
	c.Expect(t, 404, "POST", path+"/subscription", `{"topics":["`+missing+`"]}`, "Content-Type", V2)
	c.Expect(t, 422, "POST", path+"/subscription", `{"topics":[]}`, "Content-Type", V2)
	c.Expect(t, 400, "POST", path+"/subscription", `{"topics":[`, "Content-Type", V2)
	c.Expect(t, 422, "GET", path+"/records?timeout=soon", nil)
	c.Expect(t, 422, "POST", path+"/offsets", `{"offsets":[{"topic":"","partition":0,"offset":1}]}`, "Content-Type", V2)
	c.Expect(t, 204, "DELETE", path, nil)
	// A name without one is generated.
	r := c.Expect(t, 200, "POST", "/consumers/"+group, nil)
	var created struct {
		InstanceID string `json:"instance_id"`
	}
	r.Decode(t, &created)
	if created.InstanceID == "" {
		t.Fatalf("no generated name: %s", r.Body)
	}
	c.Expect(t, 204, "DELETE", "/consumers/"+group+"/instances/"+created.InstanceID, nil)
}
