package objstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/strata-io/strata/objstore/fs"
	"github.com/strata-io/strata/objstore/mem"
)

// ErrUnsupported is returned by Open for a known backend that is not built yet.
var ErrUnsupported = errors.New("objstore: backend not supported yet")

// Open returns the bucket a URL names:
//
//	file:///abs/path, file://./rel/path   local filesystem (fs)
//	mem://                                a fresh in-memory bucket (tests)
//
// s3://, gs:// and minio:// return ErrUnsupported for now.
func Open(ctx context.Context, url string) (Bucket, error) {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return nil, fmt.Errorf("objstore: bad URL %q: want scheme://...", url)
	}
	switch scheme {
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("objstore: bad URL %q: no path", url)
		}
		if strings.ContainsAny(rest, "?#") {
			return nil, fmt.Errorf("objstore: bad URL %q: file URLs take no query or fragment", url)
		}
		path, err := filepath.Abs(filepath.FromSlash(rest))
		if err != nil {
			return nil, fmt.Errorf("objstore: bad URL %q: %w", url, err)
		}
		return fs.New(path)
	case "mem":
		if rest != "" {
			return nil, fmt.Errorf("objstore: bad URL %q: mem:// takes nothing after the scheme", url)
		}
		return mem.New(), nil
	case "s3", "gs", "gcs", "minio":
		return nil, fmt.Errorf("objstore: %q: %w", url, ErrUnsupported)
	default:
		return nil, fmt.Errorf("objstore: bad URL %q: unknown scheme %q", url, scheme)
	}
}
