package harness

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Targets for STRATA_TEST_TARGET.
const (
	TargetStrata = "strata"
	TargetKfake  = "kfake"
)

// Target is the broker Start runs: "kfake" if STRATA_TEST_TARGET=kfake, else "strata".
func Target() string {
	if os.Getenv("STRATA_TEST_TARGET") == TargetKfake {
		return TargetKfake
	}
	return TargetStrata
}

// StartKfake starts ./test/harness/kfakeserver on a free port, persisting to
// DataDir/kfake. Of opts.Args it understands the strata flags
// --num-partitions and --auto-create-topics-enable; other flags are ignored.
func StartKfake(ctx context.Context, opts Options) (*Broker, error) {
	bin, err := BuildKfakeServer()
	if err != nil {
		return nil, err
	}
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	if opts.DataDir == "" {
		dir, err := os.MkdirTemp("", "kfake-data-*")
		if err != nil {
			return nil, err
		}
		opts.DataDir = dir
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := []string{"-addr", addr, "-data-dir", filepath.Join(opts.DataDir, "kfake")}
	args = append(args, KfakeArgs(opts.Args)...)
	return StartProcess(ctx, bin, args, addr, opts)
}

// KfakeArgs translates strata serve flags into kfakeserver flags.
func KfakeArgs(strataArgs []string) []string {
	var out []string
	for i := 0; i < len(strataArgs); i++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(strataArgs[i], "-"), "=")
		next := func() string {
			if hasVal {
				return val
			}
			if i+1 < len(strataArgs) {
				i++
				return strataArgs[i]
			}
			return ""
		}
		switch name {
		case "num-partitions":
			out = append(out, "-partitions", next())
		case "auto-create-topics-enable":
			v := "true"
			if hasVal {
				v = val
			}
			if v == "true" {
				out = append(out, "-auto-create")
			}
		}
	}
	return out
}
