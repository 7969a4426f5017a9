package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/strata-io/strata/test/harness"
)

// cmdTimeout bounds one CLI invocation.
const cmdTimeout = 60 * time.Second

// result is one finished CLI run.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// cliT runs strata subcommands against one broker.
type cliT struct {
	t       *testing.T
	bin     string
	brokers string
}

// startCLI starts a broker for t and returns a runner pointed at it.
func startCLI(t *testing.T) (*cliT, *harness.Broker) {
	t.Helper()
	bin, err := harness.BuildStrata()
	if err != nil {
		t.Fatalf("build strata: %v", err)
	}
	b := harness.StartT(t, harness.Options{Args: []string{"--group-initial-rebalance-delay", "0s"}})
	return &cliT{t: t, bin: bin, brokers: b.Addr}, b
}

// run runs `strata args...` with stdin and returns its outcome.
func (c *cliT) run(stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = append(cmd.Environ(), "STRATA_BROKERS="+c.brokers)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		c.t.Fatalf("strata %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		c.t.Fatalf("strata %s: did not finish within %s\nstderr: %s", strings.Join(args, " "), cmdTimeout, r.stderr)
	}
	return r
}

// ok runs a command that must succeed and returns its stdout.
func (c *cliT) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("strata %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must exit with code and mention want on stderr.
func (c *cliT) fails(code int, want string, args ...string) result {
	c.t.Helper()
	r := c.run("", args...)
	if r.code != code {
		c.t.Fatalf("strata %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		c.t.Fatalf("strata %s: stderr %q does not mention %q", strings.Join(args, " "), r.stderr, want)
	}
	return r
}

// okJSON runs a command with --output json and decodes its stdout into v.
func (c *cliT) okJSON(v any, stdin string, args ...string) {
	c.t.Helper()
	out := c.ok(stdin, append(args, "--output", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("strata %s --output json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// mustContain fails unless s contains every want.
func mustContain(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Fatalf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// decode parses JSON output into v.
func (c *cliT) decode(out string, v any) {
	c.t.Helper()
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("decode %q: %v", out, err)
	}
}
