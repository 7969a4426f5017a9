package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// nodeIDFromHostname parses the trailing number of the host name, so a
// StatefulSet pod strata-2 becomes broker 2.
func nodeIDFromHostname() (int, error) {
	h, err := os.Hostname()
	if err != nil {
		return 0, fmt.Errorf("node id from host name: %w", err)
	}
	return parseOrdinal(h)
}

func parseOrdinal(host string) (int, error) {
	host, _, _ = strings.Cut(host, ".")
	i := len(host)
	for i > 0 && host[i-1] >= '0' && host[i-1] <= '9' {
		i--
	}
	if i == len(host) || i == 0 || host[i-1] != '-' {
		return 0, fmt.Errorf("node id from host name: %q does not end in -<number>", host)
	}
	id, err := strconv.Atoi(host[i:])
	if err != nil || id > 1<<31-1 {
		return 0, fmt.Errorf("node id from host name %q: %v", host, err)
	}
	return id, nil
}
