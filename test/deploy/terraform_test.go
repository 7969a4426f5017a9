package deploy

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/terraform-config-inspect/tfconfig"
)

var (
	tfModules  = []string{"terraform/modules/aws", "terraform/modules/gcp"}
	tfExamples = []string{"terraform/examples/aws", "terraform/examples/gcp"}
)

// moduleMeta are module block arguments that are not input variables.
var moduleMeta = map[string]bool{"source": true, "version": true, "providers": true, "count": true, "for_each": true, "depends_on": true}

func TestTerraformFmt(t *testing.T) {
	terraform := tool(t, "terraform")
	out, stderr, err := run(t, repoRoot(t), nil, terraform, "fmt", "-check", "-recursive", "-diff", "terraform")
	if err != nil {
		t.Fatalf("terraform fmt -check: %v\n%s%s", err, out, stderr)
	}
}

func TestTFLint(t *testing.T) {
	tflint := tool(t, "tflint")
	root := repoRoot(t)
	cfg := filepath.Join(root, "terraform", ".tflint.hcl")
	for _, dir := range append(append([]string{}, tfModules...), tfExamples...) {
		t.Run(dir, func(t *testing.T) {
			out, stderr, err := run(t, filepath.Join(root, dir), nil, tflint, "--config", cfg, "--format", "compact")
			if err != nil {
				t.Fatalf("tflint: %v\n%s%s", err, out, stderr)
			}
		})
	}
}

func inspect(t *testing.T, dir string) *tfconfig.Module {
	t.Helper()
	m, diags := tfconfig.LoadModule(filepath.Join(repoRoot(t), dir))
	if diags.HasErrors() {
		t.Fatalf("%s: %v", dir, diags.Err())
	}
	return m
}

// TestTerraformModulesDocumented: every variable typed and described, every
// output described, providers pinned, and the outputs the docs promise exist.
func TestTerraformModulesDocumented(t *testing.T) {
	wantOutputs := map[string][]string{
		"terraform/modules/aws":  {"bootstrap_address", "bucket_name", "broker_role_arn", "namespace", "service_account"},
		"terraform/modules/gcp":  {"bootstrap_address", "bucket_name", "service_account_email", "namespace", "kubernetes_service_account"},
		"terraform/examples/aws": {"bootstrap_address"},
		"terraform/examples/gcp": {"bootstrap_address"},
	}
	for _, dir := range append(append([]string{}, tfModules...), tfExamples...) {
		t.Run(dir, func(t *testing.T) {
			m := inspect(t, dir)
			if len(m.Variables) == 0 {
				t.Fatal("no variables")
			}
			for name, v := range m.Variables {
				if v.Type == "" {
					t.Errorf("variable %s has no type", name)
				}
				if strings.TrimSpace(v.Description) == "" {
					t.Errorf("variable %s has no description", name)
				}
			}
			for name, o := range m.Outputs {
				if strings.TrimSpace(o.Description) == "" {
					t.Errorf("output %s has no description", name)
				}
			}
			for _, name := range wantOutputs[dir] {
				if m.Outputs[name] == nil {
					t.Errorf("output %s missing", name)
				}
			}
			if len(m.RequiredCore) == 0 {
				t.Error("no required_version")
			}
			for name, p := range m.RequiredProviders {
				if p.Source == "" || len(p.VersionConstraints) == 0 {
					t.Errorf("provider %s: source %q versions %v", name, p.Source, p.VersionConstraints)
				}
			}
		})
	}
}

// TestTerraformModulesValidate: variables that can be wrong have validation
// blocks (read from the HCL, as terraform-config-inspect does not report them).
func TestTerraformModulesValidate(t *testing.T) {
	mustValidate := []string{"name", "bucket_name", "object_prefix", "namespace", "release_name", "replicas", "abort_incomplete_multipart_upload_days"}
	for _, dir := range tfModules {
		t.Run(dir, func(t *testing.T) {
			validated := map[string]bool{}
			for _, body := range parseDir(t, dir) {
				for _, b := range body.Blocks {
					if b.Type != "variable" {
						continue
					}
					for _, inner := range b.Body.Blocks {
						if inner.Type == "validation" {
							validated[b.Labels[0]] = true
						}
					}
				}
			}
			for _, v := range mustValidate {
				if !validated[v] {
					t.Errorf("variable %s has no validation", v)
				}
			}
		})
	}
}

// TestTerraformExamplesPassDeclaredVariables: every module call in an example
// passes only variables the module declares, and every required one.
func TestTerraformExamplesPassDeclaredVariables(t *testing.T) {
	for _, dir := range tfExamples {
		t.Run(dir, func(t *testing.T) {
			calls := inspect(t, dir).ModuleCalls
			if len(calls) == 0 {
				t.Fatal("example calls no module")
			}
			passed := moduleArgs(t, dir)
			for name, call := range calls {
				if !strings.HasPrefix(call.Source, "../../modules/") {
					t.Errorf("module %s: source %q is not one of ours", name, call.Source)
					continue
				}
				mod := inspect(t, filepath.Join(dir, call.Source))
				args := passed[name]
				for _, a := range args {
					if mod.Variables[a] == nil {
						t.Errorf("module %s: passes %q, which %s does not declare", name, a, call.Source)
					}
				}
				for vname, v := range mod.Variables {
					if v.Required && !contains(args, vname) {
						t.Errorf("module %s: required variable %q not passed", name, vname)
					}
				}
			}
		})
	}
}

// moduleArgs returns, per module block, the input arguments it sets.
func moduleArgs(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, body := range parseDir(t, dir) {
		for _, b := range body.Blocks {
			if b.Type != "module" {
				continue
			}
			var args []string
			for name := range b.Body.Attributes {
				if !moduleMeta[name] {
					args = append(args, name)
				}
			}
			sort.Strings(args)
			out[b.Labels[0]] = args
		}
	}
	return out
}

func parseDir(t *testing.T, dir string) []*hclsyntax.Body {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot(t), dir, "*.tf"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no .tf files in %s: %v", dir, err)
	}
	p := hclparse.NewParser()
	var bodies []*hclsyntax.Body
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, diags := p.ParseHCL(src, path)
		if diags.HasErrors() {
			t.Fatalf("%s: %v", path, diags)
		}
		bodies = append(bodies, f.Body.(*hclsyntax.Body))
	}
	return bodies
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
