// Command kfakeserver runs franz-go's in-memory fake Kafka cluster (kfake) as a
// standalone process, so tests and benchmarks can treat it exactly like a real
// broker binary: start it, talk Kafka to it, SIGTERM it.
//
//	kfakeserver -addr 127.0.0.1:9092 -partitions 3 [-data-dir DIR] [-auto-create] [-seed-topics a,b]
//
// With -data-dir the cluster persists its state there and reloads it on the
// next start, so a restart keeps topics, records and committed offsets.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kfakeserver:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:9092", "host:port to listen on (one broker)")
	partitions := flag.Int("partitions", 1, "default number of partitions for created / auto-created topics")
	dataDir := flag.String("data-dir", "", "persist cluster state in this directory (empty: memory only)")
	autoCreate := flag.Bool("auto-create", false, "allow auto topic creation through Metadata requests")
	seed := flag.String("seed-topics", "", "comma-separated topics to create at start (with -partitions partitions)")
	flag.Parse()

	host, portStr, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("parse -addr: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fmt.Errorf("parse -addr port: %w", err)
	}

	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DefaultNumPartitions(*partitions),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, portStr))
		}),
	}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if *seed != "" {
		opts = append(opts, kfake.SeedTopics(int32(*partitions), strings.Split(*seed, ",")...))
	}

	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return fmt.Errorf("start kfake cluster: %w", err)
	}
	slog.Info("kfakeserver listening", "addrs", cluster.ListenAddrs(), "partitions", *partitions, "data_dir", *dataDir)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	s := <-sig
	slog.Info("kfakeserver shutting down", "signal", s.String())
	cluster.Close()
	return nil
}
