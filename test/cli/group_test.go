package cli

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

type groupJSON struct {
	Group      string `json:"group"`
	State      string `json:"state"`
	TotalLag   int64  `json:"total_lag"`
	Partitions []struct {
		Topic         string `json:"topic"`
		Partition     int32  `json:"partition"`
		CurrentOffset int64  `json:"current_offset"`
		LogEndOffset  int64  `json:"log_end_offset"`
		Lag           int64  `json:"lag"`
	} `json:"partitions"`
}

// committed returns the group's committed offset and lag for work[0].
func committed(t *testing.T, c *cliT, group string) (cur, lag int64) {
	t.Helper()
	var gs []groupJSON
	c.okJSON(&gs, "", "group", "describe", group)
	if len(gs) != 1 || len(gs[0].Partitions) != 1 {
		t.Fatalf("group describe json: %+v", gs)
	}
	p := gs[0].Partitions[0]
	if p.Topic != "work" || p.LogEndOffset != 10 || p.Lag != p.LogEndOffset-p.CurrentOffset || gs[0].TotalLag != p.Lag {
		t.Fatalf("group describe json: %+v", gs[0])
	}
	return p.CurrentOffset, p.Lag
}

func TestGroupCommands(t *testing.T) {
	c, _ := startCLI(t)
	c.ok("", "topic", "create", "work", "--partitions", "1")
	c.ok("0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n", "produce", "--topic", "work")

	// A group consumer that reads 4 of 10 records commits offset 4: lag 6.
	out := c.ok("", "consume", "--topic", "work", "--group", "g1", "--from-beginning", "--max-messages", "4")
	if out != "0\n1\n2\n3\n" {
		t.Fatalf("group consume: %q", out)
	}
	list := c.ok("", "group", "list")
	if !regexp.MustCompile(`(?m)^g1\s+Empty\s+consumer\s+1\s*$`).MatchString(list) {
		t.Fatalf("group list:\n%s", list)
	}
	var listed []struct {
		Group string `json:"group"`
		State string `json:"state"`
	}
	c.okJSON(&listed, "", "group", "list")
	if len(listed) != 1 || listed[0].Group != "g1" || listed[0].State != "Empty" {
		t.Fatalf("group list json: %+v", listed)
	}
	desc := c.ok("", "group", "describe", "g1")
	mustContain(t, "group describe", desc, "Group: g1", "State: Empty", "Total lag: 6", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG")
	if !regexp.MustCompile(`(?m)^work\s+0\s+4\s+10\s+6\s`).MatchString(desc) {
		t.Fatalf("group describe row should be work 0 4 10 6:\n%s", desc)
	}
	if cur, lag := committed(t, c, "g1"); cur != 4 || lag != 6 {
		t.Fatalf("committed %d lag %d, want 4 and 6", cur, lag)
	}
	// The next group consumer resumes at the committed offset.
	if out := c.ok("", "consume", "--topic", "work", "--group", "g1", "--max-messages", "1"); out != "4\n" {
		t.Fatalf("resume from commit: %q", out)
	}

	// reset-offsets is a dry run unless --execute.
	out = c.ok("", "group", "reset-offsets", "g1", "--topic", "work", "--to-earliest")
	if !regexp.MustCompile(`(?m)^g1\s+work\s+0\s+5\s+0\s*$`).MatchString(out) {
		t.Fatalf("reset dry run:\n%s", out)
	}
	if cur, _ := committed(t, c, "g1"); cur != 5 {
		t.Fatalf("dry run changed the commit to %d", cur)
	}
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{[]string{"--to-earliest"}, 0},
		{[]string{"--to-offset", "7"}, 7},
		{[]string{"--shift-by", "-2"}, 5},
		{[]string{"--to-latest"}, 10},
		{[]string{"--to-offset", "99"}, 10}, // clamped to the log end
		{[]string{"--to-datetime", "2001-01-01T00:00:00Z"}, 0},
		{[]string{"--to-datetime", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 10},
	} {
		args := append([]string{"group", "reset-offsets", "--group", "g1", "--topic", "work:0", "--execute"}, tc.args...)
		var res struct {
			Executed bool `json:"executed"`
			Offsets  []struct {
				NewOffset int64 `json:"new_offset"`
			} `json:"offsets"`
		}
		c.okJSON(&res, "", args...)
		if !res.Executed || len(res.Offsets) != 1 || res.Offsets[0].NewOffset != tc.want {
			t.Fatalf("reset %v: %+v, want new offset %d", tc.args, res, tc.want)
		}
		if cur, _ := committed(t, c, "g1"); cur != tc.want {
			t.Fatalf("reset %v: committed %d, want %d", tc.args, cur, tc.want)
		}
	}
	c.ok("", "group", "reset-offsets", "g1", "--all-topics", "--to-offset", "3", "--execute")
	if cur, lag := committed(t, c, "g1"); cur != 3 || lag != 7 {
		t.Fatalf("after --all-topics reset: committed %d lag %d", cur, lag)
	}

	// An active group cannot be reset or deleted.
	bg := exec.Command(c.bin, "consume", "--topic", "work", "--group", "g1", "--idle-timeout", "50s")
	bg.Env = append(os.Environ(), "STRATA_BROKERS="+c.brokers)
	var bgOut, bgErr bytes.Buffer
	bg.Stdout, bg.Stderr = &bgOut, &bgErr
	if err := bg.Start(); err != nil {
		t.Fatal(err)
	}
	defer bg.Process.Kill()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(c.ok("", "group", "list"), "Stable") {
		if time.Now().After(deadline) {
			t.Fatalf("background consumer never made g1 Stable; its stderr: %s", bgErr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.fails(1, "offsets can be reset only when it has no members", "group", "reset-offsets", "g1", "--topic", "work", "--to-earliest", "--execute")
	c.fails(1, "active members", "group", "delete", "g1")
	if err := bg.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if err := bg.Wait(); err != nil {
		t.Fatalf("background consumer: %v; stderr: %s", err, bgErr.String())
	}
	if bgOut.String() != "3\n4\n5\n6\n7\n8\n9\n" {
		t.Fatalf("background consumer printed %q", bgOut.String())
	}
	if cur, lag := committed(t, c, "g1"); cur != 10 || lag != 0 {
		t.Fatalf("after interrupted consumer: committed %d lag %d, want 10 and 0", cur, lag)
	}

	// Errors.
	c.fails(1, `group "nogroup"`, "group", "describe", "nogroup")
	c.fails(1, `topic "nope"`, "group", "reset-offsets", "g1", "--topic", "nope", "--to-earliest")
	c.fails(2, "exactly one of", "group", "reset-offsets", "g1", "--topic", "work")
	c.fails(2, "--topic or --all-topics", "group", "reset-offsets", "g1", "--to-latest")
	c.fails(2, "--to-datetime", "group", "reset-offsets", "g1", "--topic", "work", "--to-datetime", "yesterday")
	c.fails(2, "name a group", "group", "describe")

	mustContain(t, "group delete", c.ok("", "group", "delete", "g1"), "Deleted group g1.")
	c.fails(1, "does not exist", "group", "delete", "g1")
	c.fails(1, `group "g1"`, "group", "describe", "g1")
}
