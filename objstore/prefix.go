package objstore

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// WithPrefix returns a view of b in which every object name is stored under
// prefix (joined with "/"). An empty prefix returns b itself. Closing the
// view closes b.
func WithPrefix(b Bucket, prefix string) Bucket {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return b
	}
	return &prefixed{b: b, prefix: prefix + "/"}
}

type prefixed struct {
	b      Bucket
	prefix string // ends with "/"
}

// full validates name on its own (so "../x" cannot climb out of the prefix)
// and prepends the prefix.
func (p *prefixed) full(name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	return p.prefix + name, nil
}

func (p *prefixed) Upload(ctx context.Context, name string, r io.Reader) error {
	full, err := p.full(name)
	if err != nil {
		return err
	}
	return p.b.Upload(ctx, full, r)
}

func (p *prefixed) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	full, err := p.full(name)
	if err != nil {
		return err
	}
	return p.b.UploadIfNotExists(ctx, full, r)
}

func (p *prefixed) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	full, err := p.full(name)
	if err != nil {
		return nil, err
	}
	return p.b.Get(ctx, full)
}

func (p *prefixed) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	full, err := p.full(name)
	if err != nil {
		return nil, err
	}
	return p.b.GetRange(ctx, full, off, length)
}

func (p *prefixed) Exists(ctx context.Context, name string) (bool, error) {
	full, err := p.full(name)
	if err != nil {
		return false, err
	}
	return p.b.Exists(ctx, full)
}

func (p *prefixed) Attributes(ctx context.Context, name string) (Attributes, error) {
	full, err := p.full(name)
	if err != nil {
		return Attributes{}, err
	}
	return p.b.Attributes(ctx, full)
}

func (p *prefixed) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	return p.b.Iter(ctx, p.prefix+prefix, func(name string) error {
		rel, ok := strings.CutPrefix(name, p.prefix)
		if !ok {
			return fmt.Errorf("objstore: prefix view %q got foreign name %q", p.prefix, name)
		}
		return fn(rel)
	})
}

func (p *prefixed) Delete(ctx context.Context, name string) error {
	full, err := p.full(name)
	if err != nil {
		return err
	}
	return p.b.Delete(ctx, full)
}

func (p *prefixed) Close() error { return p.b.Close() }
