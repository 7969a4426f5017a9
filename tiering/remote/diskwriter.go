package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// diskWriter is the queue of fetched chunks waiting to be written to the
// on-disk cache by the cache's single writer goroutine (writeLoop). It is
// bounded by bytes: a chunk that does not fit is not cached on disk (the
// memory copy still serves it; a later read fetches it again). A pending
// chunk holds a reference to its buffer until written or dropped, and the
// writer holds its own while writing. Its fields are guarded by
// chunkCache.mu.
type diskWriter struct {
	max     int64
	bytes   int64
	queue   []*pendingChunk
	pending map[chunkKey]*pendingChunk
	wake    chan struct{} // capacity 1: the queue is not empty
}

type pendingChunk struct {
	key chunkKey
	buf *chunkBuf
}

func (w *diskWriter) init(maxBytes int64) {
	w.max = maxBytes
	w.pending = map[chunkKey]*pendingChunk{}
	w.wake = make(chan struct{}, 1)
}

// enqueue queues a chunk, taking a reference to b (the caller holds one),
// unless the queue is full or holds it already.
func (w *diskWriter) enqueue(k chunkKey, b *chunkBuf) bool {
	if _, ok := w.pending[k]; ok {
		return true
	}
	if w.bytes+int64(len(b.data)) > w.max {
		return false
	}
	b.retain(1)
	p := &pendingChunk{key: k, buf: b}
	w.pending[k] = p
	w.queue = append(w.queue, p)
	w.bytes += int64(len(b.data))
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// pendingData returns a queued (or being written) chunk's buffer, with a
// reference for the caller when retain is set.
func (w *diskWriter) pendingData(k chunkKey, retain bool) (*chunkBuf, bool) {
	p, ok := w.pending[k]
	if !ok {
		return nil, false
	}
	if retain {
		p.buf.retain(1)
	}
	return p.buf, true
}

// next takes the oldest queued chunk, with a reference for the writer
// (released after the write); it stays pending (readable) until done.
func (w *diskWriter) next() (*pendingChunk, bool) {
	for len(w.queue) > 0 {
		p := w.queue[0]
		w.queue[0] = nil
		w.queue = w.queue[1:]
		if w.pending[p.key] == p {
			p.buf.retain(1)
			return p, true
		}
	}
	w.queue = nil // drop the emptied backing array
	return nil, false
}

// done ends p's write; it reports whether p is still wanted (it was not
// dropped by an invalidation meanwhile).
func (w *diskWriter) done(p *pendingChunk) bool {
	if w.pending[p.key] != p {
		return false
	}
	delete(w.pending, p.key)
	w.bytes -= int64(len(p.buf.data))
	p.buf.release()
	return true
}

// dropObject forgets the queued chunks of object (a write in progress is
// discarded when it ends).
func (w *diskWriter) dropObject(object string) {
	for k, p := range w.pending {
		if k.object == object {
			delete(w.pending, k)
			w.bytes -= int64(len(p.buf.data))
			p.buf.release()
		}
	}
}

// idle reports whether nothing is queued or being written.
func (w *diskWriter) idle() bool { return len(w.pending) == 0 }

// writeLoop writes queued chunks to disk, one at a time, until ctx is
// done.
func (c *chunkCache) writeLoop(ctx context.Context) {
	for {
		c.mu.Lock()
		p, ok := c.w.next()
		c.mu.Unlock()
		if !ok {
			select {
			case <-c.w.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		path := c.path(p.key)
		err := c.writeFile(path, p.buf.data)
		size := int64(len(p.buf.data))
		p.buf.release() // the writer's reference
		c.mu.Lock()
		wanted := c.w.done(p)
		if err == nil && wanted {
			c.commitLocked(p.key, path, size)
		}
		c.mu.Unlock()
		if err != nil {
			c.m.cacheWriteDrops.Inc()
		} else if !wanted {
			_ = os.Remove(path)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// writeFile writes data to a temporary file with one write (direct I/O
// where possible) and renames it to path.
func (c *chunkCache) writeFile(path string, data []byte) error {
	tmp := filepath.Join(c.dir, fmt.Sprintf("tmp-%d", c.seq.Add(1)))
	err := writeDirect(tmp, data)
	if errors.Is(err, errNoDirect) {
		err = writeBuffered(tmp, data)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("remote: chunk cache: %w", err)
	}
	return nil
}

var errNoDirect = errors.New("direct I/O not possible")

// writeDirect writes data with O_DIRECT: the length rounded up to
// directAlign (the padding lies within data's capacity), then truncated.
func writeDirect(path string, data []byte) error {
	f, padded, ok := openDirect(path, data)
	if !ok {
		return errNoDirect
	}
	_, err := f.Write(padded)
	if err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		if errors.Is(err, syscall.EINVAL) { // the device wants another alignment
			return errNoDirect
		}
		return err
	}
	if len(padded) != len(data) {
		err = f.Truncate(int64(len(data)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func writeBuffered(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// alignUp rounds n up to a multiple of directAlign.
func alignUp(n int) int { return (n + directAlign - 1) &^ (directAlign - 1) }

// readFull reads into p until it is full or the file ends.
func readFull(f *os.File, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := f.Read(p[n:])
		n += m
		if err == io.EOF || (err == nil && m == 0) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// sizeCheck turns a read of n bytes of a chunk file that should hold want
// into an error unless they match.
func sizeCheck(path string, n, want int, err error) error {
	if err != nil {
		return err
	}
	if n != want {
		return fmt.Errorf("remote: chunk file %s holds %d bytes, want %d", filepath.Base(path), n, want)
	}
	return nil
}

// readBuffered reads the chunk file at path, which must hold len(data)
// bytes, into data.
func readBuffered(path string, data []byte) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := readFull(f, data[:cap(data)])
	return sizeCheck(path, n, len(data), err)
}
