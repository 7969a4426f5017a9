package partlog

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// memFS is an in-memory fsys that models what survives a crash: file bytes
// only once the file is fsynced, directory entries only once the directory
// is fsynced. It can also fail the next write or sync.
type memFS struct {
	mu        sync.Mutex
	files     map[string]*memNode // live namespace
	durable   map[string]*memNode // namespace as of the last SyncDir
	failWrite error               // returned (once) by the next WriteAt
	failSync  error               // returned (once) by the next Sync
	syncDelay time.Duration       // simulated fsync latency
}

type memNode struct {
	mu     sync.Mutex
	data   []byte
	synced []byte
}

type memHandle struct {
	fs *memFS
	n  *memNode
}

func newMemFS() *memFS {
	return &memFS{files: map[string]*memNode{}, durable: map[string]*memNode{}}
}

// crash returns the filesystem as a machine would find it after power loss:
// durable entries with their synced bytes plus up to torn bytes of the
// unsynced tail (a partially written page).
func (m *memFS) crash(torn int) *memFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := newMemFS()
	for name, n := range m.durable {
		n.mu.Lock()
		data := append([]byte(nil), n.synced...)
		if len(n.data) > len(n.synced) && strings.HasPrefix(string(n.data), string(n.synced)) {
			extra := min(torn, len(n.data)-len(n.synced))
			data = append(data, n.data[len(n.synced):len(n.synced)+extra]...)
		}
		n.mu.Unlock()
		nn := &memNode{data: data, synced: append([]byte(nil), data...)}
		out.files[name] = nn
		out.durable[name] = nn
	}
	return out
}

func notExist(op, name string) error { return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist} }

func (m *memFS) MkdirAll(string) error { return nil }

func (m *memFS) OpenFile(name string, flag int) (file, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.files[name]
	if n == nil {
		if flag&os.O_CREATE == 0 {
			return nil, notExist("open", name)
		}
		n = &memNode{}
		m.files[name] = n
	}
	if flag&os.O_TRUNC != 0 {
		n.mu.Lock()
		n.data = nil
		n.mu.Unlock()
	}
	return &memHandle{fs: m, n: n}, nil
}

func (m *memFS) ReadDir(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var names []string
	for name := range m.files {
		if filepath.Dir(name) == filepath.Clean(dir) {
			names = append(names, filepath.Base(name))
		}
	}
	return names, nil
}

func (m *memFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files[name] == nil {
		return notExist("remove", name)
	}
	delete(m.files, name)
	return nil
}

func (m *memFS) RemoveAll(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name := range m.files {
		if strings.HasPrefix(name, filepath.Clean(dir)+"/") {
			delete(m.files, name)
			delete(m.durable, name)
		}
	}
	return nil
}

func (m *memFS) Rename(oldName, newName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.files[oldName]
	if n == nil {
		return notExist("rename", oldName)
	}
	delete(m.files, oldName)
	m.files[newName] = n
	return nil
}

func (m *memFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	for name := range m.durable {
		if filepath.Dir(name) == dir && m.files[name] == nil {
			delete(m.durable, name)
		}
	}
	for name, n := range m.files {
		if filepath.Dir(name) == dir {
			m.durable[name] = n
		}
	}
	return nil
}

func (h *memHandle) ReadAt(p []byte, off int64) (int, error) {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	if off >= int64(len(h.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *memHandle) WriteAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	if err := h.fs.failWrite; err != nil {
		h.fs.failWrite = nil
		h.fs.mu.Unlock()
		// A failed write may still leave a partial page behind.
		h.n.mu.Lock()
		if int64(len(h.n.data)) == off {
			h.n.data = append(h.n.data, p[:len(p)/2]...)
		}
		h.n.mu.Unlock()
		return len(p) / 2, err
	}
	h.fs.mu.Unlock()
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	if end := off + int64(len(p)); end > int64(len(h.n.data)) {
		h.n.data = append(h.n.data, make([]byte, end-int64(len(h.n.data)))...)
	}
	copy(h.n.data[off:], p)
	return len(p), nil
}

func (h *memHandle) Truncate(size int64) error {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	if size < int64(len(h.n.data)) {
		h.n.data = h.n.data[:size]
	} else {
		h.n.data = append(h.n.data, make([]byte, size-int64(len(h.n.data)))...)
	}
	return nil
}

func (h *memHandle) Size() (int64, error) {
	h.n.mu.Lock()
	defer h.n.mu.Unlock()
	return int64(len(h.n.data)), nil
}

func (h *memHandle) Sync() error {
	h.fs.mu.Lock()
	err, delay := h.fs.failSync, h.fs.syncDelay
	h.fs.failSync = nil
	h.fs.mu.Unlock()
	if err != nil {
		return err
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	h.n.mu.Lock()
	h.n.synced = append(h.n.synced[:0], h.n.data...)
	h.n.mu.Unlock()
	return nil
}

func (h *memHandle) Close() error { return nil }

// fileBytes returns a copy of a live file's contents.
func (m *memFS) fileBytes(name string) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := m.files[name]
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]byte(nil), n.data...)
}
