package cli

import (
	"strings"
	"testing"
)

// TestClusterReassignSingleBroker checks the reassignment commands end to
// end against one broker: trivial moves complete, bad ones fail with the
// broker's error, drain refuses when no broker can take the replicas.
func TestClusterReassignSingleBroker(t *testing.T) {
	c, _ := startCLI(t)
	c.ok("", "topic", "create", "mv", "--partitions", "2")

	if out := c.ok("", "cluster", "reassignments"); !strings.Contains(out, "TOPIC") || strings.Contains(out, "mv") {
		t.Fatalf("reassignments before any:\n%s", out)
	}
	var listed []map[string]any
	c.okJSON(&listed, "", "cluster", "reassignments")
	if len(listed) != 0 {
		t.Fatalf("reassignments json: %v", listed)
	}

	// A move to the replicas it already has completes at once.
	out := c.ok("", "cluster", "reassign", "--topic", "mv", "--partition", "1", "--replicas", "1", "--wait", "--wait-timeout", "30s")
	mustContain(t, "reassign --wait", out, "reassigning mv/1 to [1]", "1/1 partitions reassigned")

	c.fails(1, "INVALID_REPLICA_ASSIGNMENT", "cluster", "reassign", "--topic", "mv", "--partition", "0", "--replicas", "1,7")
	c.fails(1, "UNKNOWN_TOPIC_OR_PARTITION", "cluster", "reassign", "--topic", "mv", "--partition", "5", "--replicas", "1")
	c.fails(1, "NO_REASSIGNMENT_IN_PROGRESS", "cluster", "reassign", "--topic", "mv", "--partition", "0", "--cancel")
	c.fails(2, "exactly one of --replicas and --cancel", "cluster", "reassign", "--topic", "mv", "--partition", "0")
	c.fails(2, "--topic and --partition are required", "cluster", "reassign", "--replicas", "1")
	c.fails(2, "bad --replicas", "cluster", "reassign", "--topic", "mv", "--partition", "0", "--replicas", "x")

	// One broker: nothing to rebalance, nowhere to drain to.
	mustContain(t, "rebalance", c.ok("", "cluster", "rebalance"), "nothing to move")
	c.fails(1, "no other live broker", "cluster", "drain", "--broker", "1")
	mustContain(t, "drain of an unknown broker", c.ok("", "cluster", "drain", "--broker", "9"), "nothing to move")
	c.fails(2, "--broker is required", "cluster", "drain")
}
