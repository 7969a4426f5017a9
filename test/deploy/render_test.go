package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rendered is a chart rendering, indexed by kind and name.
type rendered struct {
	t    *testing.T
	objs []map[string]any
}

func render(t *testing.T, args ...string) rendered {
	t.Helper()
	out, err := helmTemplate(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return rendered{t: t, objs: docs(t, out)}
}

func (r rendered) find(kind, name string) map[string]any {
	r.t.Helper()
	for _, o := range r.objs {
		if o["kind"] == kind && get(o, "metadata.name") == name {
			return o
		}
	}
	r.t.Fatalf("no %s %q rendered", kind, name)
	return nil
}

func (r rendered) count(kind string) int {
	n := 0
	for _, o := range r.objs {
		if o["kind"] == kind {
			n++
		}
	}
	return n
}

// get walks a dotted path; a numeric segment indexes a list.
func get(v any, path string) any {
	for _, seg := range strings.Split(path, ".") {
		switch t := v.(type) {
		case map[string]any:
			v = t[seg]
		case []any:
			var i int
			if _, err := fmt.Sscanf(seg, "%d", &i); err != nil || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

// key reads a map entry whose key has dots (label and annotation names).
func key(m any, k string) any {
	mm, _ := m.(map[string]any)
	return mm[k]
}

// byName finds the element of a list of objects whose "name" is name.
func byName(list any, name string) map[string]any {
	l, _ := list.([]any)
	for _, e := range l {
		if m, ok := e.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

func container(t *testing.T, sts map[string]any, name string) map[string]any {
	t.Helper()
	c := byName(get(sts, "spec.template.spec.containers"), name)
	if c == nil {
		t.Fatalf("no container %q", name)
	}
	return c
}

func env(c map[string]any, name string) map[string]any { return byName(c["env"], name) }

func TestBrokerStatefulSet(t *testing.T) {
	r := render(t)
	sts := r.find("StatefulSet", "demo-strata")
	c := container(t, sts, "strata")

	// Broker ids derive from the ordinal.
	if got := get(env(c, "STRATA_NODE_ID"), "valueFrom.fieldRef.fieldPath"); got != "metadata.labels['apps.kubernetes.io/pod-index']" {
		t.Errorf("STRATA_NODE_ID comes from %v, want the pod-index label", got)
	}

	// Advertised addresses resolve through the headless service.
	headless := r.find("Service", "demo-strata-headless")
	if get(headless, "spec.clusterIP") != "None" || get(headless, "spec.publishNotReadyAddresses") != true {
		t.Errorf("headless service: clusterIP %v publishNotReadyAddresses %v", get(headless, "spec.clusterIP"), get(headless, "spec.publishNotReadyAddresses"))
	}
	if get(sts, "spec.serviceName") != "demo-strata-headless" {
		t.Errorf("serviceName %v, want the headless service", get(sts, "spec.serviceName"))
	}
	if got, want := get(env(c, "STRATA_ADVERTISE_KAFKA_ADDR"), "value"), "$(POD_NAME).demo-strata-headless.$(POD_NAMESPACE).svc.cluster.local:9092"; got != want {
		t.Errorf("advertised address %v, want %v", got, want)
	}
	if get(env(c, "POD_NAME"), "valueFrom.fieldRef.fieldPath") != "metadata.name" {
		t.Error("POD_NAME is not the pod's name")
	}
	if get(env(c, "STRATA_KAFKA_ADDR"), "value") != "0.0.0.0:9092" {
		t.Errorf("kafka listener %v", get(env(c, "STRATA_KAFKA_ADDR"), "value"))
	}
	client := r.find("Service", "demo-strata")
	if get(client, "spec.ports.0.port") != 9092 {
		t.Errorf("client service port %v", get(client, "spec.ports.0.port"))
	}

	// Rack from the node's zone label: the init container writes it to a
	// config file the broker reads.
	init := byName(get(sts, "spec.template.spec.initContainers"), "rack")
	if init == nil {
		t.Fatal("no rack init container")
	}
	script := fmt.Sprint(get(init, "command.2"))
	if !strings.Contains(script, `kubectl get node "$NODE_NAME"`) || !strings.Contains(script, `topology\.kubernetes\.io/zone`) {
		t.Errorf("rack init script does not read the node's zone label:\n%s", script)
	}
	if get(env(init, "NODE_NAME"), "valueFrom.fieldRef.fieldPath") != "spec.nodeName" {
		t.Error("rack init container does not know its node")
	}
	if args := fmt.Sprint(c["args"]); !strings.Contains(args, "--config=/var/run/strata-rack/rack.yaml") {
		t.Errorf("broker args %s do not read the rack file", args)
	}
	role := r.find("ClusterRole", "kafka-demo-strata-node-reader")
	if fmt.Sprint(get(role, "rules.0.resources")) != "[nodes]" || fmt.Sprint(get(role, "rules.0.verbs")) != "[get]" {
		t.Errorf("node reader role grants %v", get(role, "rules"))
	}

	// Probes.
	if get(c, "readinessProbe.httpGet.path") != "/readyz" || get(c, "livenessProbe.httpGet.path") != "/healthz" {
		t.Errorf("readiness %v liveness %v", get(c, "readinessProbe.httpGet.path"), get(c, "livenessProbe.httpGet.path"))
	}
	if get(c, "readinessProbe.httpGet.port") != "http" || byName(c["ports"], "http")["containerPort"] != 8080 {
		t.Error("probes do not hit the HTTP port")
	}

	// PDB and spread over zones, anti-affinity over nodes.
	pdb := r.find("PodDisruptionBudget", "demo-strata")
	if sel := fmt.Sprint(get(pdb, "spec.selector.matchLabels")); sel != fmt.Sprint(get(sts, "spec.selector.matchLabels")) {
		t.Errorf("PDB selects %s, brokers are %s", sel, fmt.Sprint(get(sts, "spec.selector.matchLabels")))
	}
	if get(pdb, "spec.maxUnavailable") != 1 {
		t.Errorf("PDB maxUnavailable %v", get(pdb, "spec.maxUnavailable"))
	}
	spread := get(sts, "spec.template.spec.topologySpreadConstraints.0")
	if get(spread, "topologyKey") != "topology.kubernetes.io/zone" || get(spread, "whenUnsatisfiable") != "DoNotSchedule" {
		t.Errorf("spread %v", spread)
	}
	if get(sts, "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0.topologyKey") != "kubernetes.io/hostname" {
		t.Error("no required anti-affinity over nodes")
	}

	// Shutdown, security, storage.
	if g, _ := get(sts, "spec.template.spec.terminationGracePeriodSeconds").(int); g < 60 {
		t.Errorf("terminationGracePeriodSeconds %d leaves no time for controlled shutdown", g)
	}
	if get(sts, "spec.template.spec.securityContext.runAsNonRoot") != true || get(c, "securityContext.readOnlyRootFilesystem") != true ||
		get(c, "securityContext.allowPrivilegeEscalation") != false {
		t.Error("broker is not locked down (non-root, read-only root, no escalation)")
	}
	data := byName(get(sts, "spec.template.spec.volumes"), "data")
	if data == nil || data["emptyDir"] == nil || byName(c["volumeMounts"], "data")["mountPath"] != "/var/lib/strata" ||
		get(env(c, "STRATA_DATA_DIR"), "value") != "/var/lib/strata" {
		t.Error("data dir is not an emptyDir mounted at STRATA_DATA_DIR")
	}

	// Bundled etcd: three members named in the broker's metastore URL.
	want := "etcd://demo-strata-etcd-0.demo-strata-etcd-headless.kafka.svc.cluster.local:2379," +
		"demo-strata-etcd-1.demo-strata-etcd-headless.kafka.svc.cluster.local:2379," +
		"demo-strata-etcd-2.demo-strata-etcd-headless.kafka.svc.cluster.local:2379/strata"
	if got := get(env(c, "STRATA_METASTORE"), "value"); got != want {
		t.Errorf("metastore %v\nwant      %v", got, want)
	}
	etcd := r.find("StatefulSet", "demo-strata-etcd")
	if get(etcd, "spec.replicas") != 3 || get(etcd, "spec.podManagementPolicy") != "Parallel" {
		t.Errorf("etcd replicas %v policy %v", get(etcd, "spec.replicas"), get(etcd, "spec.podManagementPolicy"))
	}
	if got := get(env(container(t, etcd, "etcd"), "ETCD_INITIAL_CLUSTER"), "value"); strings.Count(fmt.Sprint(got), "=http://") != 3 {
		t.Errorf("etcd initial cluster %v", got)
	}
	r.find("PodDisruptionBudget", "demo-strata-etcd")
	r.find("NetworkPolicy", "demo-strata-etcd")
	if get(env(c, "STRATA_OBJSTORE"), "value") != "s3://demo-strata/strata" {
		t.Errorf("default objstore %v", get(env(c, "STRATA_OBJSTORE"), "value"))
	}
	if r.count("ServiceMonitor") != 0 {
		t.Error("ServiceMonitor rendered though disabled")
	}
}

func TestAWSIRSA(t *testing.T) {
	r := render(t, "-f", "charts/strata/examples/aws-s3-irsa.yaml")
	sa := r.find("ServiceAccount", "demo-strata")
	if got := key(get(sa, "metadata.annotations"), "eks.amazonaws.com/role-arn"); got != "arn:aws:iam::123456789012:role/strata-prod-broker" {
		t.Errorf("IRSA annotation %v", got)
	}
	sts := r.find("StatefulSet", "demo-strata")
	c := container(t, sts, "strata")
	if got := get(env(c, "STRATA_OBJSTORE"), "value"); got != "s3://acme-strata-prod/prod?region=us-east-1" {
		t.Errorf("objstore %v", got)
	}
	if env(c, "AWS_ACCESS_KEY_ID") != nil {
		t.Error("static keys set alongside IRSA")
	}
	if get(sts, "spec.template.spec.serviceAccountName") != "demo-strata" {
		t.Error("brokers do not run as the annotated service account")
	}
	if get(sts, "spec.volumeClaimTemplates.0.spec.storageClassName") != "local-nvme" {
		t.Errorf("hot data PVC class %v", get(sts, "spec.volumeClaimTemplates.0.spec.storageClassName"))
	}
	sm := r.find("ServiceMonitor", "demo-strata")
	if get(sm, "spec.endpoints.0.path") != "/metrics" || get(sm, "spec.endpoints.0.port") != "http" {
		t.Errorf("ServiceMonitor endpoint %v", get(sm, "spec.endpoints"))
	}
	if key(get(sm, "spec.selector.matchLabels"), "strata.io/service") != "headless" {
		t.Error("ServiceMonitor would scrape each broker through both services")
	}
}

func TestGCPWorkloadIdentity(t *testing.T) {
	r := render(t, "-f", "charts/strata/examples/gcp-gcs-workload-identity.yaml")
	sa := r.find("ServiceAccount", "demo-strata")
	if got := key(get(sa, "metadata.annotations"), "iam.gke.io/gcp-service-account"); got != "strata-broker@acme-prod.iam.gserviceaccount.com" {
		t.Errorf("Workload Identity annotation %v", got)
	}
	c := container(t, r.find("StatefulSet", "demo-strata"), "strata")
	if got := get(env(c, "STRATA_OBJSTORE"), "value"); got != "gs://acme-strata-prod/prod" {
		t.Errorf("objstore %v", got)
	}
	if env(c, "GOOGLE_APPLICATION_CREDENTIALS") != nil {
		t.Error("key file set alongside Workload Identity")
	}
}

func TestMinIOStaticCredentials(t *testing.T) {
	r := render(t, "-f", "charts/strata/examples/minio.yaml")
	sts := r.find("StatefulSet", "demo-strata")
	c := container(t, sts, "strata")
	if got := get(env(c, "STRATA_OBJSTORE"), "value"); got != "minio://minio.storage.svc.cluster.local:9000/strata/strata?secure=false" {
		t.Errorf("objstore %v", got)
	}
	for name, key := range map[string]string{"AWS_ACCESS_KEY_ID": "access-key-id", "AWS_SECRET_ACCESS_KEY": "secret-access-key"} {
		ref := get(env(c, name), "valueFrom.secretKeyRef")
		if get(ref, "name") != "strata-minio" || get(ref, "key") != key {
			t.Errorf("%s from %v", name, ref)
		}
	}
	if get(sts, "spec.template.spec.initContainers") != nil || r.count("ClusterRole") != 0 {
		t.Error("rack.source=none still reads the node")
	}
	if get(sts, "spec.template.spec.automountServiceAccountToken") != false {
		t.Error("service account token mounted though nothing needs it")
	}
}

func TestExternalEtcdTLS(t *testing.T) {
	r := render(t, "-f", "charts/strata/examples/external-etcd-tls.yaml")
	if r.count("StatefulSet") != 1 {
		t.Errorf("%d StatefulSets: bundled etcd rendered with external etcd", r.count("StatefulSet"))
	}
	sts := r.find("StatefulSet", "demo-strata")
	c := container(t, sts, "strata")
	want := "etcd://etcd-0.etcd.infra.svc.cluster.local:2379,etcd-1.etcd.infra.svc.cluster.local:2379,etcd-2.etcd.infra.svc.cluster.local:2379/strata/prod"
	if got := get(env(c, "STRATA_METASTORE"), "value"); got != want {
		t.Errorf("metastore %v", got)
	}
	for name, file := range map[string]string{"STRATA_METASTORE_CA_FILE": "ca.crt", "STRATA_METASTORE_CERT_FILE": "tls.crt", "STRATA_METASTORE_KEY_FILE": "tls.key"} {
		if got := get(env(c, name), "value"); got != "/etc/strata/etcd-tls/"+file {
			t.Errorf("%s = %v", name, got)
		}
	}
	if get(byName(get(sts, "spec.template.spec.volumes"), "etcd-tls"), "secret.secretName") != "strata-etcd-client-tls" {
		t.Error("etcd TLS secret not mounted")
	}
	// rack.source=podLabel: the zone label through the downward API.
	if got := get(env(c, "STRATA_RACK"), "valueFrom.fieldRef.fieldPath"); got != "metadata.labels['topology.kubernetes.io/zone']" {
		t.Errorf("STRATA_RACK from %v", got)
	}
	if get(sts, "spec.replicas") != 5 {
		t.Errorf("replicas %v", get(sts, "spec.replicas"))
	}
}

func TestHostnameBrokerIDs(t *testing.T) {
	r := render(t, "--set", "brokerId.source=hostname")
	c := container(t, r.find("StatefulSet", "demo-strata"), "strata")
	if env(c, "STRATA_NODE_ID") != nil || !strings.Contains(fmt.Sprint(c["args"]), "--node-id-from-hostname") {
		t.Errorf("hostname ids: env %v args %v", env(c, "STRATA_NODE_ID"), c["args"])
	}
}

// TestNotesTellHowToConnect renders NOTES.txt offline: `helm install
// --dry-run` needs a cluster, so a copy of the chart holds the notes as a
// YAML block that `helm template` renders.
func TestNotesTellHowToConnect(t *testing.T) {
	helm := tool(t, "helm")
	root := repoRoot(t)
	dir := filepath.Join(t.TempDir(), "strata")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join(root, chartDir))); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	block := "notes: |\n  " + strings.ReplaceAll(string(notes), "\n", "\n  ") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "notes.yaml"), []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := run(t, root, nil, helm, "template", "demo", dir, "--namespace", "kafka", "--show-only", "templates/notes.yaml")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, stderr)
	}
	for _, want := range []string{"demo-strata.kafka.svc.cluster.local:9092", "rollout status statefulset/demo-strata", "s3://demo-strata/strata"} {
		if !strings.Contains(out, want) {
			t.Errorf("NOTES lack %q:\n%s", want, out)
		}
	}
}
