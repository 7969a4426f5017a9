package cli

import (
	"regexp"
	"testing"
)

type topicJSON struct {
	Topic             string            `json:"topic"`
	ID                string            `json:"id"`
	Partitions        int               `json:"partitions"`
	ReplicationFactor int               `json:"replication_factor"`
	Configs           map[string]string `json:"configs"`
	PartitionDetails  []struct {
		Partition    int32   `json:"partition"`
		Leader       int32   `json:"leader"`
		Replicas     []int32 `json:"replicas"`
		LogEndOffset int64   `json:"log_end_offset"`
	} `json:"partition_details"`
}

func TestTopicCommands(t *testing.T) {
	c, _ := startCLI(t)

	out := c.ok("", "topic", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000")
	mustContain(t, "topic create", out, "Created topic orders (partitions 3, replication factor 1)")
	var created []struct {
		Topic   string `json:"topic"`
		Created bool   `json:"created"`
	}
	c.okJSON(&created, "", "topic", "create", "--topic", "payments", "--partitions", "2")
	if len(created) != 1 || created[0].Topic != "payments" || !created[0].Created {
		t.Fatalf("create json = %+v", created)
	}

	c.fails(1, "TOPIC_ALREADY_EXISTS", "topic", "create", "orders")
	mustContain(t, "create --if-not-exists", c.ok("", "topic", "create", "orders", "--if-not-exists"), "already exists")

	list := c.ok("", "topic", "list")
	if !regexp.MustCompile(`(?m)^orders\s+3\s+1\s`).MatchString(list) || !regexp.MustCompile(`(?m)^payments\s+2\s+1\s`).MatchString(list) {
		t.Fatalf("topic list:\n%s", list)
	}
	var listed []topicJSON
	c.okJSON(&listed, "", "topic", "list")
	found := map[string]int{}
	for _, l := range listed {
		found[l.Topic] = l.Partitions
	}
	if found["orders"] != 3 || found["payments"] != 2 {
		t.Fatalf("topic list json: %+v", listed)
	}

	c.ok("a\nb\nc\n", "produce", "--topic", "orders", "--partition", "1")
	desc := c.ok("", "topic", "describe", "orders")
	mustContain(t, "topic describe", desc, "Topic: orders", "Partitions: 3", "retention.ms=3600000", "LOG-END")
	if !regexp.MustCompile(`(?m)^1\s+1\s+\d+\s+1\s+1\s+0\s+3\s*$`).MatchString(desc) {
		t.Fatalf("describe: partition 1 should show leader 1, replicas 1, isr 1, log 0..3:\n%s", desc)
	}
	var described []topicJSON
	c.okJSON(&described, "", "topic", "describe", "orders")
	if len(described) != 1 || described[0].Partitions != 3 || len(described[0].PartitionDetails) != 3 ||
		described[0].Configs["retention.ms"] != "3600000" || described[0].PartitionDetails[1].LogEndOffset != 3 {
		t.Fatalf("describe json: %+v", described)
	}

	mustContain(t, "topic alter", c.ok("", "topic", "alter", "orders", "--partitions", "5", "--config", "segment.ms=600000", "--delete-config", "retention.ms"),
		"Altered topic orders")
	described = nil // json.Unmarshal merges into existing maps
	c.okJSON(&described, "", "topic", "describe", "orders")
	if described[0].Partitions != 5 || described[0].Configs["segment.ms"] != "600000" {
		t.Fatalf("after alter: %+v", described[0])
	}
	if _, ok := described[0].Configs["retention.ms"]; ok {
		t.Fatalf("retention.ms still overridden after --delete-config: %v", described[0].Configs)
	}
	c.fails(1, "INVALID_PARTITIONS", "topic", "alter", "orders", "--partitions", "2")
	c.fails(2, "nothing to do", "topic", "alter", "orders")

	mustContain(t, "topic delete", c.ok("", "topic", "delete", "payments"), "Deleted topic payments")
	c.fails(1, "UNKNOWN_TOPIC_OR_PARTITION", "topic", "delete", "payments")
	c.ok("", "topic", "delete", "payments", "--if-exists")
	if out := c.ok("", "topic", "list"); regexp.MustCompile(`(?m)^payments\s`).MatchString(out) {
		t.Fatalf("payments still listed after delete:\n%s", out)
	}

	// Unknown topics.
	c.fails(1, `topic "nope"`, "topic", "describe", "nope")
	c.fails(1, `topic "nope"`, "topic", "alter", "nope", "--partitions", "4")
	// Usage errors.
	c.fails(2, "name a topic", "topic", "create")
	c.fails(2, "key=value", "topic", "create", "x", "--config", "novalue")
	c.fails(2, "unknown subcommand", "topic", "frobnicate")
	c.fails(2, "flag provided but not defined", "topic", "list", "--bogus")
	c.fails(2, "--output must be table or json", "topic", "list", "--output", "yaml")
}
