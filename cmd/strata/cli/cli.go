package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Exit codes returned by Run.
const (
	ExitOK    = 0
	ExitError = 1 // an operation failed
	ExitUsage = 2 // bad command line
)

// Commands lists the top-level command names this package handles.
var Commands = []string{"topic", "group", "cluster", "produce", "consume", "perf"}

// IsCommand reports whether name is a top-level command handled by Run.
func IsCommand(name string) bool {
	for _, c := range Commands {
		if c == name {
			return true
		}
	}
	return false
}

// Usage is the help text for the commands in this package.
const Usage = `Admin and perf commands (Kafka protocol; any Kafka-compatible cluster):
  strata topic create|list|describe|alter|delete
  strata group list|describe|reset-offsets|delete
  strata cluster describe|reassign|reassignments|drain|rebalance
  strata produce --topic T        console producer: one record per stdin line
  strata consume --topic T        console consumer
  strata perf produce|consume     throughput and latency tests
Common flags: --brokers host:port,... (env STRATA_BROKERS, default 127.0.0.1:9092),
  --output table|json, --timeout 30s. Run "strata <command> -h" for more.
`

// env is what a command runs with.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// usageError marks errors caused by the command line (exit code 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Run executes one command line (args[0] is the command, e.g. "topic") and
// returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, Usage)
		return ExitUsage
	}
	var err error
	switch args[0] {
	case "topic":
		err = e.dispatch(ctx, "topic", args[1:], map[string]func(context.Context, []string) error{
			"create": e.topicCreate, "list": e.topicList, "describe": e.topicDescribe,
			"alter": e.topicAlter, "delete": e.topicDelete,
		})
	case "group":
		err = e.dispatch(ctx, "group", args[1:], map[string]func(context.Context, []string) error{
			"list": e.groupList, "describe": e.groupDescribe,
			"reset-offsets": e.groupResetOffsets, "delete": e.groupDelete,
		})
	case "cluster":
		err = e.dispatch(ctx, "cluster", args[1:], map[string]func(context.Context, []string) error{
			"describe": e.clusterDescribe, "reassign": e.clusterReassign,
			"reassignments": e.clusterReassignments, "drain": e.clusterDrain, "rebalance": e.clusterRebalance,
		})
	case "produce":
		err = e.produce(ctx, args[1:])
	case "consume":
		err = e.consume(ctx, args[1:])
	case "perf":
		err = e.dispatch(ctx, "perf", args[1:], map[string]func(context.Context, []string) error{
			"produce": e.perfProduce, "consume": e.perfConsume,
		})
	default:
		err = usagef("unknown command %q", args[0])
	}
	return e.exitCode(err)
}

func (e *env) exitCode(err error) int {
	var ue *usageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, flag.ErrHelp):
		return ExitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "strata: %v\n", err)
		return ExitUsage
	default:
		fmt.Fprintf(e.stderr, "strata: error: %v\n", err)
		return ExitError
	}
}

func (e *env) dispatch(ctx context.Context, group string, args []string, subs map[string]func(context.Context, []string) error) error {
	names := make([]string, 0, len(subs))
	for n := range subs {
		names = append(names, n)
	}
	sortStrings(names)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(e.stderr, "usage: strata %s %s [flags]\n", group, strings.Join(names, "|"))
		if len(args) == 0 {
			return usagef("%s: missing subcommand", group)
		}
		return nil
	}
	fn, ok := subs[args[0]]
	if !ok {
		return usagef("%s: unknown subcommand %q (want %s)", group, args[0], strings.Join(names, "|"))
	}
	return fn(ctx, args[1:])
}

// common holds the flags every command takes.
type common struct {
	brokers string
	output  string
	timeout time.Duration
}

func newFlagSet(e *env, name, usageLine string) (*flag.FlagSet, *common) {
	fs := flag.NewFlagSet("strata "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c := &common{}
	def := os.Getenv("STRATA_BROKERS")
	if def == "" {
		def = "127.0.0.1:9092"
	}
	fs.StringVar(&c.brokers, "brokers", def, "comma-separated seed brokers (env STRATA_BROKERS)")
	fs.StringVar(&c.output, "output", "table", "output format: table or json")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "overall timeout for admin requests")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "usage: strata %s %s\n\nFlags:\n", name, usageLine)
		fs.PrintDefaults()
	}
	return fs, c
}

// parse parses flags that may be interspersed with positional arguments and
// validates the common flags. It returns the positional arguments.
func parse(fs *flag.FlagSet, c *common, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{msg: err.Error()}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if c.output != "table" && c.output != "json" {
		return nil, usagef("--output must be table or json, not %q", c.output)
	}
	if c.brokers == "" {
		return nil, usagef("--brokers is empty")
	}
	return pos, nil
}

func (c *common) seeds() []string {
	var out []string
	for _, s := range strings.Split(c.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
