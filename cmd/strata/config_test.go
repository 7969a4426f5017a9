package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func parseServe(t *testing.T, args []string, env map[string]string, file string) (serveFlags, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var f serveFlags
	f.register(fs)
	if file != "" {
		p := filepath.Join(t.TempDir(), "strata.yaml")
		if err := os.WriteFile(p, []byte(file), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	return f, applyConfigSources(fs, f.config)
}

func TestConfigPrecedence(t *testing.T) {
	file := "node-id: 7\nkafka-addr: 10.0.0.1:9092\nnum-partitions: 3\nrack: file-rack\n"
	env := map[string]string{"STRATA_NUM_PARTITIONS": "5", "STRATA_RACK": "env-rack"}
	f, err := parseServe(t, []string{"--rack", "flag-rack"}, env, file)
	if err != nil {
		t.Fatal(err)
	}
	if f.nodeID != 7 || f.kafkaAddr != "10.0.0.1:9092" {
		t.Errorf("file values not applied: node-id %d kafka-addr %s", f.nodeID, f.kafkaAddr)
	}
	if f.numPartitions != 5 {
		t.Errorf("env should beat file: num-partitions %d, want 5", f.numPartitions)
	}
	if f.rack != "flag-rack" {
		t.Errorf("flag should beat env and file: rack %q", f.rack)
	}
	if f.dataDir != "./data" || f.metastore != "embedded" || f.httpAddr != "127.0.0.1:8080" {
		t.Errorf("defaults changed: %+v", f)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := parseServe(t, nil, nil, "no-such-key: 1\n"); err == nil || !strings.Contains(err.Error(), "unknown key") {
		t.Errorf("unknown file key: err %v", err)
	}
	if _, err := parseServe(t, nil, map[string]string{"STRATA_NODE_ID": "abc"}, ""); err == nil || !strings.Contains(err.Error(), "STRATA_NODE_ID") {
		t.Errorf("bad env value: err %v", err)
	}
	if _, err := parseServe(t, nil, nil, "node-id: [1, 2\n"); err == nil {
		t.Error("malformed YAML accepted")
	}
}

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	l, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second lock: err %v, want in use", err)
	}
	l.Close()
	l2, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Close()
}

func TestParseOrdinal(t *testing.T) {
	for host, want := range map[string]int{"strata-0": 0, "strata-12": 12, "strata-2.strata.ns.svc": 2, "a-b-7": 7} {
		if got, err := parseOrdinal(host); err != nil || got != want {
			t.Errorf("parseOrdinal(%q) = %d, %v; want %d", host, got, err, want)
		}
	}
	for _, host := range []string{"strata", "strata-", "12", "strata-x", "strata7"} {
		if _, err := parseOrdinal(host); err == nil {
			t.Errorf("parseOrdinal(%q) accepted", host)
		}
	}
}
