package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// No Docker engine runs on this machine kind (the docker CLI does, without a
// daemon), so the image is not built here. These tests parse the Dockerfile
// and docker-compose.yml for what matters instead.

// instruction is one Dockerfile instruction with line continuations joined.
type instruction struct {
	cmd  string // upper case
	args string
}

func parseDockerfile(t *testing.T) []instruction {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := parseDockerfile(t)
	// Split into stages.
	type stage struct {
		from string
		ins  []instruction
	}
	var stages []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, stage{from: in.args})
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("%d stages, want a multi-stage build", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if !strings.Contains(build.from, "golang:") || !strings.HasSuffix(build.from, " AS build") {
		t.Errorf("first stage %q is not the Go build stage", build.from)
	}
	if final.from != "scratch" {
		t.Errorf("final stage FROM %q, want scratch", final.from)
	}
	var compiled bool
	for _, in := range build.ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "CGO_ENABLED=0") && strings.Contains(in.args, "go build") &&
			strings.Contains(in.args, "./cmd/strata") {
			compiled = true
		}
	}
	if !compiled {
		t.Error("build stage does not compile a static (CGO_ENABLED=0) ./cmd/strata")
	}
	last := map[string]string{}
	var copies []string
	for _, in := range final.ins {
		last[in.cmd] = in.args
		if in.cmd == "COPY" {
			copies = append(copies, in.args)
		}
	}
	user := last["USER"]
	if user == "" || strings.HasPrefix(user, "0") || strings.HasPrefix(user, "root") {
		t.Errorf("final USER %q, want a non-root numeric user", user)
	}
	if last["ENTRYPOINT"] != `["/usr/local/bin/strata", "serve"]` {
		t.Errorf("ENTRYPOINT %s, want strata serve in exec form", last["ENTRYPOINT"])
	}
	all := strings.Join(copies, "\n")
	if !strings.Contains(all, "--from=build /out/strata /usr/local/bin/strata") || !strings.Contains(all, "--from=build /rootfs/ /") {
		t.Errorf("final stage copies %q: want the binary and the runtime tree", all)
	}
	var runtime string
	for _, in := range build.ins {
		if in.cmd == "RUN" && strings.Contains(in.args, "/rootfs") {
			runtime = in.args
		}
	}
	for _, want := range []string{"ca-certificates.crt", "/rootfs/etc/passwd", "65532", "chown"} {
		if !strings.Contains(runtime, want) {
			t.Errorf("runtime tree lacks %q (CA bundle, passwd entry, owned data dir)", want)
		}
	}
	if !strings.Contains(last["ENV"], "STRATA_KAFKA_ADDR=0.0.0.0:9092") || !strings.Contains(last["ENV"], "STRATA_HTTP_ADDR=0.0.0.0:8080") {
		t.Errorf("ENV %q: listeners must bind all interfaces in a container", last["ENV"])
	}
}

func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{}
	for _, l := range strings.Split(string(raw), "\n") {
		l = strings.TrimSuffix(strings.TrimSpace(l), "/")
		if l != "" && !strings.HasPrefix(l, "#") {
			ignored[strings.TrimPrefix(l, "/")] = true
		}
	}
	for _, must := range []string{"go.mod", "go.sum", "cmd", "broker", "metastore", "objstore", "tiering"} {
		if ignored[must] {
			t.Errorf(".dockerignore drops %s, which the build needs", must)
		}
	}
	for _, should := range []string{".git", "tools", "data"} {
		if !ignored[should] {
			t.Errorf(".dockerignore keeps %s in the build context", should)
		}
	}
}

func TestDockerCompose(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			DependsOn   any               `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for _, s := range []string{"etcd", "minio", "minio-init"} {
		if _, ok := doc.Services[s]; !ok {
			t.Errorf("no %s service", s)
		}
	}
	ids, racks := map[string]bool{}, map[string]bool{}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("broker-%d", i)
		b, ok := doc.Services[name]
		if !ok {
			t.Fatalf("no %s service", name)
		}
		if b.Build == nil {
			t.Errorf("%s is not built from the Dockerfile", name)
		}
		env := b.Environment
		ids[env["STRATA_NODE_ID"]] = true
		racks[env["STRATA_RACK"]] = true
		if env["STRATA_ADVERTISE_KAFKA_ADDR"] != name+":9092" {
			t.Errorf("%s advertises %q", name, env["STRATA_ADVERTISE_KAFKA_ADDR"])
		}
		if env["STRATA_METASTORE"] != "etcd://etcd:2379/strata" || !strings.HasPrefix(env["STRATA_OBJSTORE"], "minio://minio:9000/") {
			t.Errorf("%s: metastore %q objstore %q", name, env["STRATA_METASTORE"], env["STRATA_OBJSTORE"])
		}
		if env["AWS_ACCESS_KEY_ID"] != doc.Services["minio"].Environment["MINIO_ROOT_USER"] {
			t.Errorf("%s: MinIO credentials do not match the server's", name)
		}
	}
	if len(ids) != 3 || len(racks) != 3 {
		t.Errorf("broker ids %v racks %v: want three distinct of each", ids, racks)
	}
}
