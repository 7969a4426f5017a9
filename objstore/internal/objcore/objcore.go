// Package objcore holds the definitions shared by package objstore and its
// backends (the Bucket interface, attributes, sentinel errors and object-name
// rules). It exists so backends need not import objstore, which imports them
// to implement Open; callers use the aliases in objstore.
package objcore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Sentinel errors every backend maps its own failures to.
var (
	ErrNotFound           = errors.New("objstore: object not found")
	ErrPreconditionFailed = errors.New("objstore: precondition failed")
	ErrInvalidName        = errors.New("objstore: invalid object name")
	ErrInvalidRange       = errors.New("objstore: invalid range")
	// ErrTransient marks a failure worth retrying: throttling (S3 503
	// SlowDown, GCS 429), a 5xx from the server, a request timeout. Backends
	// wrap such errors so errors.Is(err, ErrTransient) holds.
	ErrTransient = errors.New("objstore: transient failure")
)

// Attributes describe a stored object.
type Attributes struct {
	Size         int64
	LastModified time.Time
}

// Bucket is an object store. Object names are slash-separated relative paths
// (see ValidateName). Implementations are safe for concurrent use.
type Bucket interface {
	// Upload writes the object, replacing any previous one. Readers never see
	// a partial object: either the old or the whole new content. If r fails
	// the object is left as it was.
	Upload(ctx context.Context, name string, r io.Reader) error
	// UploadIfNotExists writes the object only if no object has that name;
	// otherwise it returns ErrPreconditionFailed and changes nothing.
	UploadIfNotExists(ctx context.Context, name string, r io.Reader) error
	// Get opens the object for reading, or returns ErrNotFound.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// GetRange reads length bytes from offset off; length -1 reads to the
	// end. A range reaching past the end is cut at the end, one starting at
	// or after the end is empty. A negative off, or length < -1, is
	// ErrInvalidRange. A missing object is ErrNotFound.
	GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error)
	// Exists reports whether the object exists.
	Exists(ctx context.Context, name string) (bool, error)
	// Attributes returns the object's size and modification time, or
	// ErrNotFound.
	Attributes(ctx context.Context, name string) (Attributes, error)
	// Iter calls fn with the name of every object whose name starts with
	// prefix (a plain string prefix, so "a/" lists everything under a/),
	// recursively, in ascending byte order. An error from fn stops the
	// iteration and is returned.
	Iter(ctx context.Context, prefix string, fn func(name string) error) error
	// Delete removes the object, or returns ErrNotFound.
	Delete(ctx context.Context, name string) error
	// Close releases the bucket's resources.
	Close() error
}

// ValidateName checks an object name: non-empty, slash-separated segments,
// none empty, "." or "..", no leading or trailing slash, no backslash or NUL.
// The error wraps ErrInvalidName.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if strings.ContainsAny(name, "\\\x00") {
		return fmt.Errorf("%w: %q contains a backslash or NUL", ErrInvalidName, name)
	}
	for _, seg := range strings.Split(name, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w: %q has an empty segment or a leading/trailing slash", ErrInvalidName, name)
		case ".", "..":
			return fmt.Errorf("%w: %q has a %q segment", ErrInvalidName, name, seg)
		}
	}
	return nil
}

// ValidateRange checks GetRange arguments; the error wraps ErrInvalidRange.
func ValidateRange(off, length int64) error {
	if off < 0 || length < -1 {
		return fmt.Errorf("%w: offset %d length %d", ErrInvalidRange, off, length)
	}
	return nil
}

// ClampRange turns (off, length) into [start, end) within an object of
// size bytes.
func ClampRange(size, off, length int64) (start, end int64) {
	start = min(off, size)
	end = size
	if length >= 0 && length < size-start {
		end = start + length
	}
	return start, end
}

// AttributesFunc is a backend's Attributes method.
type AttributesFunc func(ctx context.Context, name string) (Attributes, error)

// Exists answers Bucket.Exists from an Attributes lookup: ErrNotFound is
// false, any other error is returned.
func Exists(ctx context.Context, attrs AttributesFunc, name string) (bool, error) {
	_, err := attrs(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// EmptyIfExists is the answer to a range read that starts at or past the
// end of an object: empty if the object exists, its lookup error if not.
func EmptyIfExists(ctx context.Context, attrs AttributesFunc, name string) (io.ReadCloser, error) {
	if _, err := attrs(ctx, name); err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(nil)), nil
}
