package objstore

import "github.com/strata-io/strata/objstore/internal/objcore"

// Bucket is an object store; see the method docs on objcore.Bucket.
type Bucket = objcore.Bucket

// Attributes describe a stored object.
type Attributes = objcore.Attributes

// Sentinel errors, test with errors.Is.
var (
	// ErrNotFound: the object does not exist.
	ErrNotFound = objcore.ErrNotFound
	// ErrPreconditionFailed: a conditional write found the object present.
	ErrPreconditionFailed = objcore.ErrPreconditionFailed
	// ErrInvalidName: the object name breaks the naming rules (ValidateName).
	ErrInvalidName = objcore.ErrInvalidName
	// ErrInvalidRange: a negative offset or a length below -1.
	ErrInvalidRange = objcore.ErrInvalidRange
	// ErrTransient: a failure worth retrying (throttling such as S3 503
	// SlowDown, a 5xx, a timeout). WithRetry retries these and network errors.
	ErrTransient = objcore.ErrTransient
)

// ValidateName reports whether name is a legal object name: slash-separated,
// relative, with no empty, "." or ".." segments.
func ValidateName(name string) error { return objcore.ValidateName(name) }
