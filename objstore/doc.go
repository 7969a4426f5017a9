// Package objstore owns Strata's object storage: the small Bucket interface
// every backend implements, Open/OpenWith to pick a backend from a URL, and
// wrappers for cross-cutting concerns:
//
//   - WithPrefix: a view under a name prefix;
//   - WithRetry: retries of transient failures (S3 503 SlowDown, 5xx,
//     network errors) with exponential backoff and full jitter;
//   - WithMetrics / Metrics.Wrap: Prometheus counters of calls, failures and
//     bytes and a latency histogram, on an injected Registerer.
//
// Backends live in subpackages and are the only code that imports a storage
// SDK: fs (the embedded default), mem (tests), s3 (aws-sdk-go-v2), minio
// (minio-go) and gcs (cloud.google.com/go/storage). Every backend maps its
// failures at its edge to the same sentinel errors (ErrNotFound,
// ErrPreconditionFailed, ErrInvalidName, ErrInvalidRange, ErrTransient) and
// passes objstoretest.Run; the remote ones run it against a real MinIO
// server (test/harness) or the fake-gcs-server emulator.
package objstore
