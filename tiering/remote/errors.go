package remote

import (
	"errors"
	"fmt"

	"github.com/strata-io/strata/tiering/segment"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotRemote means no remote segment holds the offset (it is below
	// the first one or above the last one): the caller reads the local log
	// or answers OFFSET_OUT_OF_RANGE.
	ErrNotRemote = errors.New("remote: offset not in a remote segment")
	// ErrCorrupt means an object failed a check (footer, index or batch
	// checksum, length, or a disagreement with the manifest). It is
	// segment.ErrCorrupt, so errors from either package match it.
	ErrCorrupt = segment.ErrCorrupt
	// ErrClosed means the Reader has been closed.
	ErrClosed = errors.New("remote: reader closed")
)

// corruptErr wraps ErrCorrupt with the object name and what failed.
func corruptErr(object, format string, args ...any) error {
	return fmt.Errorf("remote: object %q: %w: %s", object, ErrCorrupt, fmt.Sprintf(format, args...))
}

// objectErr wraps err (from package segment) with the object name; a
// version the reader cannot read is reported as corrupt too, since the
// data cannot be served.
func objectErr(object string, err error) error {
	if errors.Is(err, segment.ErrVersion) && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("remote: object %q: %w: %w", object, ErrCorrupt, err)
	}
	return fmt.Errorf("remote: object %q: %w", object, err)
}
