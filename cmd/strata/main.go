// Command strata is the Strata broker binary: `strata serve` runs a broker;
// other subcommands administer and measure a running cluster.
package main

import (
	"fmt"
	"os"
)

const usage = `strata: a Kafka-compatible broker with tiered storage

Usage:
  strata serve [flags]     run a broker (strata serve -h lists flags)
  strata version           print the version
`

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
	case "help", "-h", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "strata: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
}
