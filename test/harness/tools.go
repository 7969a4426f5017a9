package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// findTool locates a server binary the tests run: $<envVar> if set (used
// as is), else $REPO/tools/bin/<name> (where .ci/tools installs it), else
// <name> on $PATH. missing is returned, wrapped, when none exists.
func findTool(envVar, name string, missing error) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "", fmt.Errorf("%w: %s=%s is not a file", missing, envVar, p)
		}
		return p, nil
	}
	if root, err := ModuleRoot(); err == nil {
		p := filepath.Join(root, "tools", "bin", name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", missing
}
