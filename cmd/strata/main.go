// Command strata is the Strata broker binary: `strata serve` runs a broker;
// other subcommands administer and measure a running cluster.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/strata-io/strata/cmd/strata/cli"
)

const usage = `strata: a Kafka-compatible broker with tiered storage

Usage:
  strata serve [flags]     run a broker (strata serve -h lists flags)
  strata version           print the version

` + cli.Usage

var version = "dev"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(runServe(os.Args[2:]))
	case "version", "--version":
		fmt.Println("strata", version)
	case "topic", "group", "cluster", "produce", "consume", "perf":
		os.Exit(runCLI(os.Args[1:]))
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "strata: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}

// runCLI runs an admin or perf subcommand; SIGINT/SIGTERM cancel it cleanly.
func runCLI(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}
