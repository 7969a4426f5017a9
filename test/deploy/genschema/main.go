// Command genschema writes the JSON schemas that test/deploy validates the
// rendered Helm chart against with kubeconform, one standalone strict schema
// per Kubernetes kind the chart uses, generated from Kubernetes' own OpenAPI
// (v2) document so that no schema is downloaded at test time.
//
//	go run ./test/deploy/genschema              # finds swagger.json via `go mod download`
//	go run ./test/deploy/genschema -swagger path/to/swagger.json -out test/deploy/schemas
//
// Each file is named <kind>-<group prefix>-<version>.json (core kinds:
// <kind>-<version>.json), the layout kubeconform's
// `-schema-location '<dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json'` reads.
// A schema holds the kind's definition at its root and every definition it
// reaches under "definitions", so references stay local. Objects with listed
// properties reject unknown fields (kubeconform's -strict), int-or-string and
// quantity fields accept both forms, and apiVersion and kind must match.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// kubernetesModule holds api/openapi-spec/swagger.json.
const kubernetesModule = "k8s.io/kubernetes@v1.32.13"

const (
	quantityDef = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	// quantityPattern is the grammar in Quantity's description.
	quantityPattern = `^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|[mkMGTPE]|[eE][+-]?[0-9]+)?$`
)

// gvk is one kind the chart renders.
type gvk struct{ Group, Version, Kind string }

// kinds are the kinds the chart's templates can produce.
var kinds = []gvk{
	{"", "v1", "Service"},
	{"", "v1", "ServiceAccount"},
	{"apps", "v1", "StatefulSet"},
	{"policy", "v1", "PodDisruptionBudget"},
	{"rbac.authorization.k8s.io", "v1", "ClusterRole"},
	{"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"},
	{"networking.k8s.io", "v1", "NetworkPolicy"},
}

func main() {
	swagger := flag.String("swagger", "", "path to Kubernetes' swagger.json (default: from "+kubernetesModule+" in the module cache)")
	out := flag.String("out", "test/deploy/schemas", "output directory")
	flag.Parse()
	if err := run(context.Background(), *swagger, *out); err != nil {
		slog.Error("genschema", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, swagger, out string) error {
	if swagger == "" {
		dir, err := moduleDir(ctx, kubernetesModule)
		if err != nil {
			return err
		}
		swagger = filepath.Join(dir, "api", "openapi-spec", "swagger.json")
	}
	raw, err := os.ReadFile(swagger)
	if err != nil {
		return fmt.Errorf("read swagger: %w", err)
	}
	var doc struct {
		Definitions map[string]map[string]any `json:"definitions"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("parse swagger: %w", err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", out, err)
	}
	for _, k := range kinds {
		schema, err := standalone(doc.Definitions, k)
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(schema, "", "  ")
		if err != nil {
			return fmt.Errorf("encode %s: %w", k.Kind, err)
		}
		path := filepath.Join(out, FileName(k.Group, k.Version, k.Kind))
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		slog.Info("wrote", "path", path)
	}
	return nil
}

// FileName is kubeconform's {{ .ResourceKind }}{{ .KindSuffix }}.json for a kind.
func FileName(group, version, kind string) string {
	name := strings.ToLower(kind)
	if group != "" {
		name += "-" + strings.ToLower(strings.Split(group, ".")[0])
	}
	return name + "-" + strings.ToLower(version) + ".json"
}

// moduleDir downloads (or finds in the module cache) a module and returns its directory.
func moduleDir(ctx context.Context, mod string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", mod)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w: %s", mod, err, stderr.String())
	}
	var info struct{ Dir string }
	if err := json.Unmarshal(outb, &info); err != nil {
		return "", fmt.Errorf("parse go mod download output: %w", err)
	}
	return info.Dir, nil
}

// standalone builds the schema of one kind: its definition plus every
// definition it references.
func standalone(defs map[string]map[string]any, k gvk) (map[string]any, error) {
	root := ""
	for name, d := range defs {
		if matchesGVK(d, k) {
			root = name
			break
		}
	}
	if root == "" {
		return nil, fmt.Errorf("no definition for %s/%s %s", k.Group, k.Version, k.Kind)
	}
	reached := map[string]bool{}
	var walk func(name string) error
	walk = func(name string) error {
		if reached[name] {
			return nil
		}
		d, ok := defs[name]
		if !ok {
			return fmt.Errorf("dangling reference %s", name)
		}
		reached[name] = true
		for _, ref := range refs(d) {
			if err := walk(ref); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(reached))
	for n := range reached {
		names = append(names, n)
	}
	sort.Strings(names)
	definitions := map[string]any{}
	for _, n := range names {
		definitions[n] = transform(deepCopy(defs[n]).(map[string]any))
	}
	// A quantity is written as a string ("2Gi") or a plain number (2).
	if q, ok := definitions[quantityDef]; ok {
		definitions[quantityDef] = map[string]any{
			"description": q.(map[string]any)["description"],
			"oneOf": []any{
				map[string]any{"type": "string", "pattern": quantityPattern},
				map[string]any{"type": "number"},
			},
		}
	}
	apiVersion := k.Version
	if k.Group != "" {
		apiVersion = k.Group + "/" + k.Version
	}
	top := deepCopy(definitions[root]).(map[string]any)
	props := top["properties"].(map[string]any)
	props["apiVersion"] = map[string]any{"type": "string", "enum": []any{apiVersion}}
	props["kind"] = map[string]any{"type": "string", "enum": []any{k.Kind}}
	top["required"] = appendUnique(top["required"], "apiVersion", "kind")
	top["$schema"] = "http://json-schema.org/draft-07/schema#"
	top["definitions"] = definitions
	return top, nil
}

func matchesGVK(d map[string]any, k gvk) bool {
	list, _ := d["x-kubernetes-group-version-kind"].([]any)
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m["group"] == k.Group && m["version"] == k.Version && m["kind"] == k.Kind {
			return true
		}
	}
	return false
}

// refs lists the definition names a schema fragment references.
func refs(v any) []string {
	var out []string
	switch t := v.(type) {
	case map[string]any:
		if r, ok := t["$ref"].(string); ok {
			out = append(out, strings.TrimPrefix(r, "#/definitions/"))
		}
		for _, c := range t {
			out = append(out, refs(c)...)
		}
	case []any:
		for _, c := range t {
			out = append(out, refs(c)...)
		}
	}
	return out
}

// transform makes a definition strict and accepts both forms of int-or-string
// and quantity values.
func transform(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if t["format"] == "int-or-string" {
			return map[string]any{"oneOf": []any{
				map[string]any{"type": "string"},
				map[string]any{"type": "integer"},
			}, "description": t["description"]}
		}
		for k, c := range t {
			if k == "properties" {
				props := c.(map[string]any)
				for pk, pv := range props {
					props[pk] = transform(pv)
				}
				continue
			}
			t[k] = transform(c)
		}
		if _, has := t["properties"]; has {
			if _, set := t["additionalProperties"]; !set {
				t["additionalProperties"] = false
			}
		}
		return t
	case []any:
		for i, c := range t {
			t[i] = transform(c)
		}
		return t
	}
	return v
}

func deepCopy(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func appendUnique(list any, items ...string) []any {
	out, _ := list.([]any)
	for _, it := range items {
		found := false
		for _, e := range out {
			if e == it {
				found = true
			}
		}
		if !found {
			out = append(out, it)
		}
	}
	return out
}
