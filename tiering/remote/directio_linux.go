package remote

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"unsafe"
)

// directAlign is the buffer address and length alignment direct I/O
// needs (the largest logical block size in common use).
const directAlign = 4096

// openDirect opens path for writing with O_DIRECT when data can be written
// that way (its address is aligned and its capacity covers its length
// rounded up to directAlign), so writing a chunk costs a DMA instead of a
// copy into the page cache: on the VMs this runs on, buffered writes took
// more CPU than the whole rest of a cold read. ok is false when it cannot;
// the caller then writes normally.
func openDirect(path string, data []byte) (f *os.File, padded []byte, ok bool) {
	if !directable(data) {
		return nil, nil, false
	}
	n := alignUp(len(data))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_DIRECT, 0o644)
	if err != nil {
		return nil, nil, false // e.g. tmpfs, which has no direct I/O
	}
	return f, data[:n], true
}

// readChunkFile fills data with the file at path, which must hold exactly
// len(data) bytes, with one direct read when data's address and capacity
// allow it (see openDirect), else a buffered one.
func readChunkFile(path string, data []byte) error {
	if directable(data) {
		f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_DIRECT, 0)
		if err == nil {
			n, err := readFull(f, data[:alignUp(len(data))])
			_ = f.Close()
			if err == nil || !errors.Is(err, syscall.EINVAL) {
				return sizeCheck(path, n, len(data), err)
			}
		} else if errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return readBuffered(path, data)
}

// directable reports whether data can be the buffer of a direct transfer:
// aligned, with room for its length rounded up to directAlign.
func directable(data []byte) bool {
	return len(data) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(data)))%directAlign == 0 && alignUp(len(data)) <= cap(data)
}
