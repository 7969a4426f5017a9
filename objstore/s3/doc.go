// Package s3 is the Amazon S3 objstore backend, built on aws-sdk-go-v2. It
// also reaches S3-compatible stores (MinIO) through a custom endpoint with
// path-style addressing. Credentials come from the standard AWS chain
// (environment, shared config, SSO, IMDS, ...) unless given explicitly.
// Server-side encryption may be SSE-S3 or SSE-KMS.
//
// The SDK's own retries are off: retrying is objstore.WithRetry's job, and
// this package marks throttling (503 SlowDown) and 5xx failures with
// objstore.ErrTransient so that wrapper can tell them apart.
package s3
