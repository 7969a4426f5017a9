//go:build !linux

package remote

import "os"

const directAlign = 4096

// openDirect: direct I/O is only used on Linux.
func openDirect(string, []byte) (*os.File, []byte, bool) { return nil, nil, false }

// adviseWillNeed: page cache hints are only used on Linux.
func adviseWillNeed(string) {}
