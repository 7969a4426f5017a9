package segment

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrCorrupt means an object, section or input segment failed a check;
	// the wrapping message names what failed.
	ErrCorrupt = errors.New("segment: corrupt")
	// ErrVersion means the footer has a format version this code cannot read.
	ErrVersion = errors.New("segment: unsupported format version")
	// ErrOutOfRange means an offset or timestamp lies beyond the segment.
	ErrOutOfRange = errors.New("segment: out of range")
)
