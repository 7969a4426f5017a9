package cli

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/test/harness"
)

// TestBrokerDown runs every subcommand against a closed port: each must fail
// with exit code 1 and a clear message within a few seconds, not hang.
func TestBrokerDown(t *testing.T) {
	bin, err := harness.BuildStrata()
	if err != nil {
		t.Fatalf("build strata: %v", err)
	}
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := &cliT{t: t, bin: bin, brokers: "127.0.0.1:" + strconv.Itoa(port)}
	for _, args := range [][]string{
		{"topic", "create", "t"},
		{"topic", "list"},
		{"topic", "describe", "t"},
		{"topic", "alter", "t", "--partitions", "2"},
		{"topic", "delete", "t"},
		{"group", "list"},
		{"group", "describe", "g"},
		{"group", "reset-offsets", "g", "--topic", "t", "--to-earliest"},
		{"group", "delete", "g"},
		{"cluster", "describe"},
		{"produce", "--topic", "t"},
		{"consume", "--topic", "t"},
		{"perf", "produce", "--topic", "t", "--num-records", "10"},
		{"perf", "consume", "--topic", "t"},
	} {
		r := c.fails(1, "cannot reach any broker", args...)
		if r.took > 10*time.Second {
			t.Errorf("strata %s took %s against a closed port", strings.Join(args, " "), r.took)
		}
	}
	// --brokers wins over STRATA_BROKERS.
	c.brokers = "127.0.0.1:1"
	c.fails(1, "127.0.0.1:"+strconv.Itoa(port), "topic", "list", "--brokers", "127.0.0.1:"+strconv.Itoa(port))
}

func TestUsageErrors(t *testing.T) {
	bin, err := harness.BuildStrata()
	if err != nil {
		t.Fatalf("build strata: %v", err)
	}
	c := &cliT{t: t, bin: bin, brokers: "127.0.0.1:1"}
	c.fails(2, "unknown command", "frobnicate")
	c.fails(2, "missing subcommand", "topic")
	c.fails(2, "missing subcommand", "group")
	c.fails(2, "flag provided but not defined", "group", "list", "--nope")
	c.fails(2, "--output must be table or json", "cluster", "describe", "--output", "xml")
	r := c.run("", "topic", "create", "-h")
	if r.code != 0 || !strings.Contains(r.stderr, "--partitions") {
		t.Fatalf("topic create -h: exit %d, stderr %q", r.code, r.stderr)
	}
	mustContain(t, "strata help", c.ok("", "help"), "strata topic", "strata perf")
}
