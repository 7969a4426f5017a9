package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const chartDir = "charts/strata"

// valueSets are the configurations every check renders: the defaults, each
// example values file, and --set variants for the other template branches.
var valueSets = []struct {
	name string
	args []string
}{
	{"default", nil},
	{"aws-s3-irsa", []string{"-f", "charts/strata/examples/aws-s3-irsa.yaml"}},
	{"gcp-gcs-workload-identity", []string{"-f", "charts/strata/examples/gcp-gcs-workload-identity.yaml"}},
	{"minio", []string{"-f", "charts/strata/examples/minio.yaml"}},
	{"external-etcd-tls", []string{"-f", "charts/strata/examples/external-etcd-tls.yaml"}},
	{"bundled-etcd", []string{"-f", "charts/strata/examples/bundled-etcd.yaml"}},
	{"hostname-ids-monitor-pvc", []string{"--set", "brokerId.source=hostname", "--set", "serviceMonitor.enabled=true",
		"--set", "storage.type=persistentVolumeClaim", "--set", "antiAffinity=preferred", "--set", "extraArgs[0]=--log-level=debug"}},
	{"gcs-key-secret", []string{"--set", "objstore.type=gcs", "--set", "objstore.credentials.existingSecret=gcs-key"}},
}

func helmTemplate(t *testing.T, args ...string) (string, error) {
	t.Helper()
	helm := tool(t, "helm")
	all := append([]string{"template", "demo", chartDir, "--namespace", "kafka"}, args...)
	out, stderr, err := run(t, repoRoot(t), nil, helm, all...)
	if err != nil {
		return out, errors.New(err.Error() + ": " + stderr)
	}
	return out, nil
}

func TestHelmLint(t *testing.T) {
	helm := tool(t, "helm")
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir}, vs.args...)
			out, stderr, err := run(t, repoRoot(t), nil, helm, args...)
			if err != nil {
				t.Fatalf("helm lint: %v\n%s%s", err, out, stderr)
			}
		})
	}
}

// TestRenderedManifestsValidate validates every rendered manifest against the
// Kubernetes schemas stored in schemas/ (strict: unknown fields fail; a kind
// without a schema fails too).
func TestRenderedManifestsValidate(t *testing.T) {
	kubeconform := tool(t, "kubeconform")
	root := repoRoot(t)
	loc := filepath.Join(root, "test", "deploy", "schemas") + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			manifest, err := helmTemplate(t, vs.args...)
			if err != nil {
				t.Fatal(err)
			}
			n := len(docs(t, manifest))
			out, stderr, err := run(t, root, []byte(manifest), kubeconform, "-strict", "-summary", "-schema-location", loc, "-")
			if err != nil {
				t.Fatalf("kubeconform: %v\n%s%s", err, out, stderr)
			}
			if want := "Valid: " + strconv.Itoa(n) + ","; !strings.Contains(out, want) {
				t.Fatalf("kubeconform validated fewer than the %d rendered resources: %s", n, out)
			}
		})
	}
}

// TestKubeconformRejectsBadManifest shows the schemas bite: a misspelt field
// and a wrongly typed one fail validation.
func TestKubeconformRejectsBadManifest(t *testing.T) {
	kubeconform := tool(t, "kubeconform")
	root := repoRoot(t)
	loc := filepath.Join(root, "test", "deploy", "schemas") + "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
	manifest, err := helmTemplate(t)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]string{
		"unknown field": strings.Replace(manifest, "serviceName:", "serviceNam:", 1),
		"wrong type":    strings.Replace(manifest, "terminationGracePeriodSeconds: 120", "terminationGracePeriodSeconds: soon", 1),
	} {
		if bad == manifest {
			t.Fatalf("%s: replacement did not apply", name)
		}
		out, _, err := run(t, root, []byte(bad), kubeconform, "-strict", "-summary", "-schema-location", loc, "-")
		if err == nil || !strings.Contains(out, "Invalid: 1") {
			t.Errorf("%s: kubeconform accepted it: %v %s", name, err, out)
		}
	}
}

// TestValuesSchemaRejectsBadValues: values.schema.json makes helm fail.
func TestValuesSchemaRejectsBadValues(t *testing.T) {
	cases := map[string][]string{
		"no brokers":                  {"replicas=0"},
		"unknown object store":        {"objstore.type=azure"},
		"unknown top-level key":       {"replica=3"},
		"minio without endpoint":      {"objstore.type=minio", "objstore.credentials.existingSecret=s"},
		"minio without credentials":   {"objstore.type=minio", "objstore.minio.endpoint=minio:9000"},
		"external etcd no endpoints":  {"metastore.mode=external"},
		"etcd tls without secret":     {"metastore.mode=external", "metastore.external.endpoints[0]=etcd:2379", "metastore.external.tls.enabled=true"},
		"etcd endpoint not host:port": {"metastore.mode=external", "metastore.external.endpoints[0]=https://etcd"},
		"even etcd members":           {"metastore.bundled.replicas=2"},
		"bad IRSA role ARN":           {"objstore.s3.irsaRoleArn=strata-role"},
		"IRSA plus static keys":       {"objstore.s3.irsaRoleArn=arn:aws:iam::123456789012:role/x", "objstore.credentials.existingSecret=keys"},
		"bad workload identity SA":    {"objstore.type=gcs", "objstore.gcs.workloadIdentityServiceAccount=someone@gmail.com"},
		"root containers":             {"podSecurityContext.runAsNonRoot=false"},
		"privilege escalation":        {"securityContext.allowPrivilegeEscalation=true"},
		"hostPath storage":            {"storage.type=hostPath"},
		"short grace period":          {"terminationGracePeriodSeconds=5"},
		"bad bucket name":             {"objstore.s3.bucket=Not_A_Bucket"},
		"unknown rack source":         {"rack.source=guess"},
	}
	for name, sets := range cases {
		t.Run(name, func(t *testing.T) {
			var args []string
			for _, s := range sets {
				args = append(args, "--set", s)
			}
			_, err := helmTemplate(t, args...)
			if err == nil {
				t.Fatalf("helm template accepted %v", sets)
			}
			if !strings.Contains(err.Error(), "schema") {
				t.Fatalf("failed, but not on the values schema: %v", err)
			}
		})
	}
}

// docs splits a multi-document YAML stream into objects, dropping empty ones.
func docs(t *testing.T, manifest string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(manifest)))
	var out []map[string]any
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("rendered YAML does not parse: %v", err)
		}
		if m != nil {
			out = append(out, m)
		}
	}
}

// TestHelmPackage: the chart packages offline, with its values schema and
// without the example values files (.helmignore).
func TestHelmPackage(t *testing.T) {
	helm := tool(t, "helm")
	dest := t.TempDir()
	out, stderr, err := run(t, repoRoot(t), nil, helm, "package", chartDir, "--destination", dest)
	if err != nil {
		t.Fatalf("helm package: %v\n%s%s", err, out, stderr)
	}
	tgz := filepath.Join(dest, "strata-0.1.0.tgz")
	f, err := os.Open(tgz)
	if err != nil {
		t.Fatalf("package not written: %v (%s)", err, out)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	names := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names[h.Name] = true
	}
	for _, want := range []string{"strata/Chart.yaml", "strata/values.yaml", "strata/values.schema.json", "strata/templates/statefulset.yaml", "strata/templates/NOTES.txt"} {
		if !names[want] {
			t.Errorf("package lacks %s", want)
		}
	}
	for n := range names {
		if strings.HasPrefix(n, "strata/examples/") {
			t.Errorf("package holds %s (.helmignore should drop examples/)", n)
		}
	}
}
