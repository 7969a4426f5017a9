package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// peakRSS returns the high-water resident set size (VmHWM) of process pid in
// bytes, as reported by /proc/<pid>/status.
func peakRSS(pid int) (int64, error) {
	return procStatusBytes(pid, "VmHWM")
}

// procStatusBytes reads one "kB" field of /proc/<pid>/status in bytes.
func procStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of pid %d: %w", pid, err)
	}
	return parseStatusField(b, field)
}

func parseStatusField(status []byte, field string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		f := strings.Fields(val)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("field %s: unexpected value %q", field, val)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("field %s: %w", field, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("field %s not found in status", field)
}
