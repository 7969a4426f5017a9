// Package mem is an in-memory objstore backend for tests: a map of immutable
// byte slices behind a lock. Readers hold the slice they opened, so an
// overwrite never changes what an open reader returns.
package mem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-io/strata/objstore/internal/objcore"
)

type object struct {
	data    []byte // never mutated after insertion
	modTime time.Time
}

// Bucket is an in-memory bucket. The zero value is not usable; call New.
type Bucket struct {
	mu      sync.RWMutex
	objects map[string]object
}

// New returns an empty in-memory bucket.
func New() *Bucket { return &Bucket{objects: map[string]object{}} }

func readAll(ctx context.Context, name string, r io.Reader) ([]byte, error) {
	if err := objcore.ValidateName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("objstore/mem: upload %q: read body: %w", name, err)
	}
	return data, nil
}

// Upload stores the object, replacing any previous one.
func (b *Bucket) Upload(ctx context.Context, name string, r io.Reader) error {
	data, err := readAll(ctx, name, r)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[name] = object{data: data, modTime: time.Now()}
	return nil
}

// UploadIfNotExists stores the object unless the name is taken
// (ErrPreconditionFailed).
func (b *Bucket) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	data, err := readAll(ctx, name, r)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.objects[name]; ok {
		return fmt.Errorf("objstore/mem: %q exists: %w", name, objcore.ErrPreconditionFailed)
	}
	b.objects[name] = object{data: data, modTime: time.Now()}
	return nil
}

func (b *Bucket) lookup(name string) (object, error) {
	if err := objcore.ValidateName(name); err != nil {
		return object{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	o, ok := b.objects[name]
	if !ok {
		return object{}, fmt.Errorf("objstore/mem: %q: %w", name, objcore.ErrNotFound)
	}
	return o, nil
}

// Get opens the object for reading.
func (b *Bucket) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.GetRange(ctx, name, 0, -1)
}

// GetRange reads part of the object (see objstore.Bucket for the rules).
func (b *Bucket) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	if err := objcore.ValidateRange(off, length); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o, err := b.lookup(name)
	if err != nil {
		return nil, err
	}
	start, end := objcore.ClampRange(int64(len(o.data)), off, length)
	return io.NopCloser(bytes.NewReader(o.data[start:end])), nil
}

// Exists reports whether the object exists.
func (b *Bucket) Exists(ctx context.Context, name string) (bool, error) {
	_, err := b.lookup(name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, objcore.ErrNotFound):
		return false, nil
	default:
		return false, err
	}
}

// Attributes returns the object's size and modification time.
func (b *Bucket) Attributes(ctx context.Context, name string) (objcore.Attributes, error) {
	o, err := b.lookup(name)
	if err != nil {
		return objcore.Attributes{}, err
	}
	return objcore.Attributes{Size: int64(len(o.data)), LastModified: o.modTime}, nil
}

// Iter calls fn for every object name starting with prefix, in order. The
// names are snapshotted first, so fn may modify the bucket.
func (b *Bucket) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	b.mu.RLock()
	var names []string
	for name := range b.objects {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	b.mu.RUnlock()
	slices.Sort(names)
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the object.
func (b *Bucket) Delete(ctx context.Context, name string) error {
	if err := objcore.ValidateName(name); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.objects[name]; !ok {
		return fmt.Errorf("objstore/mem: delete %q: %w", name, objcore.ErrNotFound)
	}
	delete(b.objects, name)
	return nil
}

// Close does nothing; the bucket stays usable.
func (b *Bucket) Close() error { return nil }
