// Package fs is the local-filesystem objstore backend, the default for a
// single-node Strata. Object "a/b/c" is the file <root>/a/b/c. Writes go to a
// temporary file in the target directory, are fsynced, then renamed (or, for
// UploadIfNotExists, hard-linked, which fails atomically if the name exists),
// and the directory is fsynced, so a crash leaves the old or the new object,
// never a torn one.
//
// Unlike a cloud store, a name cannot be both an object and a "directory" at
// once: with object "a" present, uploading "a/b" fails (and vice versa).
// Strata's layouts never need both.
package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/strata-io/strata/objstore/internal/objcore"
)

// tmpPrefix marks in-progress uploads; Iter never lists them and a valid
// object name may not use it for its last segment.
const tmpPrefix = ".strata-tmp-"

// Bucket stores objects as files under a root directory.
type Bucket struct {
	root string
}

// New returns a bucket rooted at dir, creating the directory if needed.
func New(dir string) (*Bucket, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("objstore/fs: root %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("objstore/fs: create root: %w", err)
	}
	return &Bucket{root: abs}, nil
}

// Root returns the bucket's root directory.
func (b *Bucket) Root() string { return b.root }

// path maps a validated object name to its file path.
func (b *Bucket) path(name string) (string, error) {
	if err := objcore.ValidateName(name); err != nil {
		return "", err
	}
	if strings.HasPrefix(name[strings.LastIndexByte(name, '/')+1:], tmpPrefix) {
		return "", fmt.Errorf("%w: %q uses the reserved prefix %q", objcore.ErrInvalidName, name, tmpPrefix)
	}
	return filepath.Join(b.root, filepath.FromSlash(name)), nil
}

// Upload writes the object atomically, replacing any previous one.
func (b *Bucket) Upload(ctx context.Context, name string, r io.Reader) error {
	path, err := b.path(name)
	if err != nil {
		return err
	}
	tmp, err := b.writeTemp(ctx, path, r)
	if err != nil {
		return fmt.Errorf("objstore/fs: upload %q: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("objstore/fs: upload %q: %w", name, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("objstore/fs: upload %q: %w", name, err)
	}
	return nil
}

// UploadIfNotExists writes the object only if the name is free; otherwise it
// returns ErrPreconditionFailed. The check and the create are one link(2).
func (b *Bucket) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	path, err := b.path(name)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("objstore/fs: %q exists: %w", name, objcore.ErrPreconditionFailed)
	}
	tmp, err := b.writeTemp(ctx, path, r)
	if err != nil {
		return fmt.Errorf("objstore/fs: upload %q: %w", name, err)
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, iofs.ErrExist) {
			return fmt.Errorf("objstore/fs: %q exists: %w", name, objcore.ErrPreconditionFailed)
		}
		return fmt.Errorf("objstore/fs: upload %q: %w", name, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("objstore/fs: upload %q: %w", name, err)
	}
	return nil
}

// writeTemp copies r into a synced temporary file beside path and returns its
// name. On error nothing is left behind.
func (b *Bucket) writeTemp(ctx context.Context, path string, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	var f *os.File
	var err error
	// A concurrent Delete may remove the (empty) directory between MkdirAll
	// and CreateTemp; retry a few times.
	for range 5 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		if f, err = os.CreateTemp(dir, tmpPrefix+"*"); err == nil || !errors.Is(err, iofs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return "", err
	}
	_, err = io.Copy(f, ctxReader{ctx: ctx, r: r})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// openFile opens a regular file, mapping absence (or a directory) to
// ErrNotFound.
func (b *Bucket) openFile(name string) (*os.File, os.FileInfo, error) {
	path, err := b.path(name)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, notDirErr) {
			return nil, nil, fmt.Errorf("objstore/fs: %q: %w", name, objcore.ErrNotFound)
		}
		return nil, nil, fmt.Errorf("objstore/fs: open %q: %w", name, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("objstore/fs: stat %q: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("objstore/fs: %q: %w", name, objcore.ErrNotFound)
	}
	return f, info, nil
}

// Get opens the object for reading.
func (b *Bucket) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, _, err := b.openFile(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// GetRange reads part of the object (see objstore.Bucket for the rules).
func (b *Bucket) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	if err := objcore.ValidateRange(off, length); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, info, err := b.openFile(name)
	if err != nil {
		return nil, err
	}
	start, end := objcore.ClampRange(info.Size(), off, length)
	return rangeReader{SectionReader: io.NewSectionReader(f, start, end-start), f: f}, nil
}

type rangeReader struct {
	*io.SectionReader
	f *os.File
}

func (r rangeReader) Close() error { return r.f.Close() }

// Exists reports whether the object exists.
func (b *Bucket) Exists(ctx context.Context, name string) (bool, error) {
	return objcore.Exists(ctx, b.Attributes, name)
}

// Attributes returns the object's size and modification time.
func (b *Bucket) Attributes(ctx context.Context, name string) (objcore.Attributes, error) {
	path, err := b.path(name)
	if err != nil {
		return objcore.Attributes{}, err
	}
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) || errors.Is(err, notDirErr) {
			return objcore.Attributes{}, fmt.Errorf("objstore/fs: %q: %w", name, objcore.ErrNotFound)
		}
		return objcore.Attributes{}, fmt.Errorf("objstore/fs: stat %q: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return objcore.Attributes{}, fmt.Errorf("objstore/fs: %q: %w", name, objcore.ErrNotFound)
	}
	return objcore.Attributes{Size: info.Size(), LastModified: info.ModTime()}, nil
}

// Iter calls fn for every object whose name starts with prefix, in ascending
// byte order. Only the directory the prefix points into is walked.
func (b *Bucket) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	// Walk from the deepest directory fully named by the prefix.
	base := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		base = prefix[:i]
	}
	if base != "" {
		if err := objcore.ValidateName(base); err != nil {
			return nil // no object name can start with this prefix
		}
	}
	walkRoot := filepath.Join(b.root, filepath.FromSlash(base))
	var names []string
	err := filepath.WalkDir(walkRoot, func(path string, d iofs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return nil // directory vanished (concurrent delete) or never existed
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		rel, err := filepath.Rel(b.root, path)
		if err != nil {
			return err
		}
		if name := filepath.ToSlash(rel); strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("objstore/fs: iter %q: %w", prefix, err)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := fn(name); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes the object and then any directories it leaves empty.
func (b *Bucket) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := b.Attributes(ctx, name); err != nil {
		return err
	}
	path, _ := b.path(name)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("objstore/fs: delete %q: %w", name, objcore.ErrNotFound)
		}
		return fmt.Errorf("objstore/fs: delete %q: %w", name, err)
	}
	// Prune now-empty parents up to (not including) the root. Remove fails on
	// a non-empty directory, which ends the climb.
	for dir := filepath.Dir(path); dir != b.root && strings.HasPrefix(dir, b.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// Close does nothing; files stay on disk.
func (b *Bucket) Close() error { return nil }
