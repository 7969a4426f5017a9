// Package objstore owns Strata's object storage: the small Bucket interface
// every backend implements, Open to pick a backend from a URL, and wrappers
// (WithPrefix). Backends live in subpackages (fs, mem; cloud SDKs later) and
// are the only code that imports a storage SDK. Every backend maps its
// failures to the same sentinel errors (ErrNotFound, ErrPreconditionFailed,
// ErrInvalidName, ErrInvalidRange) and passes objstoretest.Run.
package objstore
