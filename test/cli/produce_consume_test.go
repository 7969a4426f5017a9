package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestProduceConsume(t *testing.T) {
	c, _ := startCLI(t)
	c.ok("", "topic", "create", "events", "--partitions", "2")

	// Keys, headers and a fixed partition; gzip and acks=1 on a second batch.
	c.ok("k1:v1\nk2:v2\nk3:v3\n", "produce", "--topic", "events", "--key-separator", ":",
		"--header", "src=cli", "--header", "n=1", "--partition", "1")
	c.ok("plain\n", "produce", "--topic", "events", "--partition", "1", "--acks", "1", "--compression", "gzip")

	out := c.ok("", "consume", "--topic", "events", "--partition", "1", "--offset", "earliest",
		"--max-messages", "4", "--format", `%k|%v|%p|%o|%h\n`)
	want := "k1|v1|1|0|src=cli,n=1\nk2|v2|1|1|src=cli,n=1\nk3|v3|1|2|src=cli,n=1\n|plain|1|3|\n"
	if out != want {
		t.Fatalf("consume output:\n%q\nwant:\n%q", out, want)
	}
	// --offset N starts at that offset; %T and %t render topic and timestamp.
	before := time.Now().Add(-time.Hour).UnixMilli()
	out = c.ok("", "consume", "--topic", "events", "--partition", "1", "--offset", "2", "--max-messages", "1", "--format", `%T %t %v`)
	var topic, value string
	var ts int64
	if _, err := fmt.Sscan(out, &topic, &ts, &value); err != nil || topic != "events" || value != "v3" || ts < before {
		t.Fatalf("consume --offset 2: %q (%v)", out, err)
	}

	// JSON lines.
	out = c.ok("", "consume", "--topic", "events", "--from-beginning", "--max-messages", "4", "--output", "json")
	type jsonRec struct {
		Topic     string            `json:"topic"`
		Partition int32             `json:"partition"`
		Offset    int64             `json:"offset"`
		Key       *string           `json:"key"`
		Value     *string           `json:"value"`
		Headers   map[string]string `json:"headers"`
	}
	var recs []jsonRec
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var one jsonRec
		if err := json.Unmarshal(sc.Bytes(), &one); err != nil {
			t.Fatalf("consume json line %q: %v", sc.Text(), err)
		}
		recs = append(recs, one)
	}
	if len(recs) != 4 {
		t.Fatalf("consume --output json: %d records, want 4:\n%s", len(recs), out)
	}
	if r := recs[0]; r.Topic != "events" || r.Key == nil || *r.Key != "k1" || *r.Value != "v1" || r.Headers["src"] != "cli" {
		t.Fatalf("first json record: %+v", r)
	}
	if r := recs[3]; r.Key != nil || *r.Value != "plain" || r.Offset != 3 {
		t.Fatalf("last json record: %+v", r)
	}

	// Round robin over both partitions without --partition; consume sees all.
	c.ok("x\ny\nz\n", "produce", "events")
	out = c.ok("", "consume", "--topic", "events", "--from-beginning", "--max-messages", "7", "--format", `%v\n`)
	if n := strings.Count(out, "\n"); n != 7 {
		t.Fatalf("consume all: %d lines, want 7:\n%s", n, out)
	}

	// An idle consumer exits 0 after --idle-timeout.
	r := c.run("", "consume", "--topic", "events", "--idle-timeout", "1s")
	if r.code != 0 || r.stdout != "" || r.took > 20*time.Second {
		t.Fatalf("idle consume: exit %d after %s, stdout %q, stderr %q", r.code, r.took, r.stdout, r.stderr)
	}

	// Errors.
	c.fails(1, `topic "missing": UNKNOWN_TOPIC_OR_PARTITION`, "produce", "--topic", "missing")
	c.fails(1, `topic "missing": UNKNOWN_TOPIC_OR_PARTITION`, "consume", "--topic", "missing", "--max-messages", "1")
	c.fails(1, "no partition 9", "produce", "--topic", "events", "--partition", "9")
	if r := c.run("nokey\n", "produce", "--topic", "events", "--key-separator", "="); r.code != 1 || !strings.Contains(r.stderr, "no key separator") {
		t.Fatalf("line without separator: exit %d, stderr %q", r.code, r.stderr)
	}
	c.fails(2, "give one --topic", "produce")
	c.fails(2, "--acks", "produce", "--topic", "events", "--acks", "2")
	c.fails(2, "--compression", "produce", "--topic", "events", "--compression", "brotli")
	c.fails(2, "--offset needs --partition", "consume", "--topic", "events", "--offset", "0")
	c.fails(2, "exclude each other", "consume", "--topic", "events", "--group", "g", "--partition", "0")
}
