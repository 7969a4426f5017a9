// Package minio is the objstore backend for MinIO and other S3-compatible
// stores, built on minio-go. Conditional creates use If-None-Match: *,
// which MinIO honours on PutObject. minio-go's own retries are off:
// retrying is objstore.WithRetry's job, and throttling and 5xx failures are
// marked with objstore.ErrTransient.
package minio
