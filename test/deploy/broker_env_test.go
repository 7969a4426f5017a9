package deploy

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/test/harness"
)

// TestChartConfigStartsRealBroker runs what the chart renders for pod 2 of
// the StatefulSet against the real strata binary: the rack init script (with
// a stand-in kubectl that answers the node's zone), then `strata serve` with
// the container's args and env, as the kubelet would expand them. Only what
// cannot exist on one machine is replaced: listen addresses, data dir, etcd
// (embedded) and the object store (file). The broker must come up and report
// id 2, the headless-service address and the zone in Metadata.
func TestChartConfigStartsRealBroker(t *testing.T) {
	sts := render(t).find("StatefulSet", "demo-strata")
	c := container(t, sts, "strata")
	tmp := t.TempDir()
	rackDir := filepath.Join(tmp, "rack")
	if err := os.MkdirAll(rackDir, 0o755); err != nil {
		t.Fatal(err)
	}

	// The rack init container, with kubectl answering for node "node-a1".
	init := byName(get(sts, "spec.template.spec.initContainers"), "rack")
	script := strings.ReplaceAll(fmt.Sprint(get(init, "command.2")), "/var/run/strata-rack", rackDir)
	bin := filepath.Join(tmp, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fakeKubectl := `#!/bin/sh
[ "$1 $2 $3 $4" = "get node node-a1 -o" ] || { echo "unexpected kubectl args: $*" >&2; exit 1; }
[ "$5" = 'jsonpath={.metadata.labels.topology\.kubernetes\.io/zone}' ] || { echo "unexpected jsonpath: $5" >&2; exit 1; }
printf 'eu-west-1b'
`
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte(fakeKubectl), 0o755); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runEnv(t, tmp, []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "NODE_NAME=node-a1"}, "/bin/sh", "-ec", script)
	if err != nil {
		t.Fatalf("rack init script: %v\n%s%s", err, out, stderr)
	}

	// The broker's environment as the kubelet expands it for pod demo-strata-2.
	fields := map[string]string{
		"metadata.name":      "demo-strata-2",
		"metadata.namespace": "kafka",
		"metadata.labels['apps.kubernetes.io/pod-index']": "2",
	}
	kport, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	kafka := "127.0.0.1:" + strconv.Itoa(kport)
	overrides := map[string]string{
		"STRATA_KAFKA_ADDR": kafka,
		"STRATA_HTTP_ADDR":  "127.0.0.1:0",
		"STRATA_DATA_DIR":   filepath.Join(tmp, "data"),
		"STRATA_METASTORE":  "embedded",
		"STRATA_OBJSTORE":   "file://" + filepath.Join(tmp, "objects"),
	}
	vars := map[string]string{}
	var env []string
	ref := regexp.MustCompile(`\$\(([A-Z_]+)\)`)
	for _, e := range c["env"].([]any) {
		e := e.(map[string]any)
		name := e["name"].(string)
		var val string
		switch {
		case e["value"] != nil:
			val = ref.ReplaceAllStringFunc(fmt.Sprint(e["value"]), func(m string) string { return vars[m[2:len(m)-1]] })
		case get(e, "valueFrom.fieldRef.fieldPath") != nil:
			path := fmt.Sprint(get(e, "valueFrom.fieldRef.fieldPath"))
			v, ok := fields[path]
			if !ok {
				t.Fatalf("env %s from unexpected field %s", name, path)
			}
			val = v
		default:
			t.Fatalf("env %s has an unexpected source: %v", name, e)
		}
		if o, ok := overrides[name]; ok {
			val = o
		}
		vars[name] = val
		env = append(env, name+"="+val)
	}
	args := []string{"serve"} // the image's entrypoint
	for _, a := range c["args"].([]any) {
		args = append(args, strings.ReplaceAll(fmt.Sprint(a), "/var/run/strata-rack", rackDir))
	}

	strata, err := harness.BuildStrata()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), harness.ReadyTimeout)
	defer cancel()
	b, err := harness.StartProcess(ctx, strata, args, kafka, harness.Options{DataDir: filepath.Join(tmp, "data"), Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if t.Failed() {
			t.Logf("broker log:\n%s", b.LogTail(40))
		}
	})

	cl, err := kgo.NewClient(kgo.SeedBrokers(kafka))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer rcancel()
	resp, err := cl.SeedBrokers()[0].Request(rctx, kmsg.NewPtrMetadataRequest())
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	md := resp.(*kmsg.MetadataResponse)
	if len(md.Brokers) != 1 {
		t.Fatalf("%d brokers in metadata", len(md.Brokers))
	}
	got := md.Brokers[0]
	rack := ""
	if got.Rack != nil {
		rack = *got.Rack
	}
	if got.NodeID != 2 || got.Host != "demo-strata-2.demo-strata-headless.kafka.svc.cluster.local" || got.Port != 9092 || rack != "eu-west-1b" {
		t.Errorf("broker advertises id %d at %s:%d rack %q; want 2 at demo-strata-2.demo-strata-headless.kafka.svc.cluster.local:9092 rack eu-west-1b",
			got.NodeID, got.Host, got.Port, rack)
	}
}
