//go:build !linux

package remote

import "os"

const directAlign = 4096

// openDirect: direct I/O is only used on Linux.
func openDirect(string, []byte) (*os.File, []byte, bool) { return nil, nil, false }

// readChunkFile reads the chunk file at path into data (buffered).
func readChunkFile(path string, data []byte) error { return readBuffered(path, data) }
