package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var (
	strataOnce sync.Once
	strataBin  string
	strataErr  error

	kfakeOnce sync.Once
	kfakeBin  string
	kfakeErr  error
)

// BuildStrata builds ./cmd/strata once per process and returns the binary path.
// If STRATA_BIN is set, that binary is used as-is.
func BuildStrata() (string, error) {
	if bin := os.Getenv("STRATA_BIN"); bin != "" {
		return bin, nil
	}
	strataOnce.Do(func() { strataBin, strataErr = goBuild("./cmd/strata", "strata") })
	return strataBin, strataErr
}

// BuildKfakeServer builds ./test/harness/kfakeserver once per process and
// returns the binary path. If KFAKESERVER_BIN is set, that binary is used as-is.
func BuildKfakeServer() (string, error) {
	if bin := os.Getenv("KFAKESERVER_BIN"); bin != "" {
		return bin, nil
	}
	kfakeOnce.Do(func() { kfakeBin, kfakeErr = goBuild("./test/harness/kfakeserver", "kfakeserver") })
	return kfakeBin, kfakeErr
}

// ModuleRoot walks up from the working directory to the directory holding go.mod.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getwd: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func goBuild(pkg, name string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	removeStaleBinDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-*", binDirPrefix, os.Getpid()))
	if err != nil {
		return "", fmt.Errorf("temp dir for %s: %w", name, err)
	}
	out := filepath.Join(dir, name)
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(goTool, "build", "-o", out, pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// binDirPrefix names the temp dirs goBuild builds into, followed by the
// pid of the test process that owns it.
const binDirPrefix = "harness-bin-"

// removeStaleBinDirs deletes the build dirs of test processes that have
// exited (each holds a ~90 MB binary; a test process has no exit hook to
// remove its own, and on a long-lived machine they filled the disk).
func removeStaleBinDirs() {
	tmp := os.TempDir()
	des, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, de := range des {
		rest, ok := strings.CutPrefix(de.Name(), binDirPrefix)
		if !ok || !de.IsDir() {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(tmp, de.Name()))
	}
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
