package objstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-io/strata/objstore/fs"
	"github.com/strata-io/strata/objstore/gcs"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/objstore/minio"
	"github.com/strata-io/strata/objstore/s3"
)

// OpenOptions add wrappers to what OpenWith returns.
type OpenOptions struct {
	// Registerer, if set, instruments the bucket (see Metrics), labelled
	// with the URL's scheme://bucket/prefix (never credentials).
	Registerer prometheus.Registerer
	// Retry tunes the retry wrapper put around remote backends.
	Retry RetryOptions
	// Logger is used by the wrappers; nil discards.
	Logger *slog.Logger
}

// Open returns the bucket a URL names (see OpenWith), without metrics.
func Open(ctx context.Context, rawURL string) (Bucket, error) {
	return OpenWith(ctx, rawURL, OpenOptions{})
}

// OpenWith returns the bucket a URL names:
//
//	file:///abs/path, file://./rel/path   local filesystem (fs)
//	mem://                                a fresh in-memory bucket (tests)
//	s3://bucket/prefix?region=&endpoint=&path-style=&sse=&kms-key-id=
//	gs://bucket/prefix                    (gcs:// too)
//	minio://host:port/bucket/prefix?secure=false&region=
//
// s3 uses the AWS credentials chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY,
// shared config, SSO, instance roles). With endpoint= set, path-style
// addressing is on unless path-style=false, and the region defaults to
// us-east-1. sse= is s3 (SSE-S3) or kms (SSE-KMS, key from kms-key-id=).
// gs uses Application Default Credentials (STORAGE_EMULATOR_HOST selects an
// emulator). minio takes its keys from MINIO_ACCESS_KEY / MINIO_SECRET_KEY,
// else MINIO_ROOT_USER / MINIO_ROOT_PASSWORD, else AWS_ACCESS_KEY_ID /
// AWS_SECRET_ACCESS_KEY; secure defaults to true.
//
// Remote buckets are checked at open: a missing bucket or rejected
// credentials fail with an error naming the bucket and the cause. They are
// wrapped as WithRetry(metrics(WithPrefix(backend))) so every try is counted.
func OpenWith(ctx context.Context, rawURL string, opts OpenOptions) (Bucket, error) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return nil, fmt.Errorf("objstore: bad URL %q: want scheme://...", rawURL)
	}
	var (
		b      Bucket
		label  string
		remote = true
		err    error
	)
	switch scheme {
	case "file":
		remote = false
		b, err = openFile(rawURL, rest)
		label = "file"
	case "mem":
		if rest != "" {
			return nil, fmt.Errorf("objstore: bad URL %q: mem:// takes nothing after the scheme", rawURL)
		}
		remote = false
		b, label = mem.New(), "mem"
	case "s3", "gs", "gcs", "minio":
		var u *url.URL
		if u, err = url.Parse(rawURL); err != nil {
			return nil, fmt.Errorf("objstore: bad URL %q: %w", rawURL, err)
		}
		if u.User != nil || u.Fragment != "" {
			return nil, fmt.Errorf("objstore: bad URL %q: no user info or fragment allowed (credentials come from the environment)", u.Redacted())
		}
		var prefix string
		switch scheme {
		case "s3":
			b, prefix, err = openS3(ctx, u)
		case "minio":
			b, prefix, err = openMinio(ctx, u)
		default:
			b, prefix, err = openGCS(ctx, u)
		}
		if err != nil {
			return nil, err
		}
		b = WithPrefix(b, prefix)
		label = strings.TrimSuffix(scheme+"://"+u.Host+u.Path, "/")
	default:
		return nil, fmt.Errorf("objstore: bad URL %q: unknown scheme %q", rawURL, scheme)
	}
	if err != nil {
		return nil, err
	}
	if opts.Registerer != nil {
		b = WithMetrics(b, opts.Registerer, label)
	}
	if remote {
		ro := opts.Retry
		if ro.Logger == nil {
			ro.Logger = opts.Logger
		}
		b = WithRetry(b, ro)
	}
	return b, nil
}

func openFile(rawURL, rest string) (Bucket, error) {
	if rest == "" {
		return nil, fmt.Errorf("objstore: bad URL %q: no path", rawURL)
	}
	if strings.ContainsAny(rest, "?#") {
		return nil, fmt.Errorf("objstore: bad URL %q: file URLs take no query or fragment", rawURL)
	}
	path, err := filepath.Abs(filepath.FromSlash(rest))
	if err != nil {
		return nil, fmt.Errorf("objstore: bad URL %q: %w", rawURL, err)
	}
	return fs.New(path)
}

// query returns u's parameters, refusing any not in allowed (typos should
// not silently fall back to defaults) and repeated ones.
func query(u *url.URL, allowed ...string) (map[string]string, error) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("objstore: bad URL %q: %w", u.Redacted(), err)
	}
	out := map[string]string{}
	for k, v := range q {
		if !slices.Contains(allowed, k) {
			return nil, fmt.Errorf("objstore: bad URL %q: unknown parameter %q (allowed: %s)", u.Redacted(), k, strings.Join(allowed, ", "))
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("objstore: bad URL %q: parameter %q given %d times", u.Redacted(), k, len(v))
		}
		out[k] = v[0]
	}
	return out, nil
}

func parseBool(u *url.URL, q map[string]string, key string, def bool) (bool, error) {
	v, ok := q[key]
	if !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("objstore: bad URL %q: %s=%q is not a boolean", u.Redacted(), key, v)
	}
	return b, nil
}

// requireBucket refuses an empty bucket name.
func requireBucket(u *url.URL, bucket string) error {
	if bucket == "" {
		return fmt.Errorf("objstore: bad URL %q: no bucket name", u.Redacted())
	}
	return nil
}

func openS3(ctx context.Context, u *url.URL) (Bucket, string, error) {
	q, err := query(u, "region", "endpoint", "path-style", "sse", "kms-key-id")
	if err != nil {
		return nil, "", err
	}
	if err := requireBucket(u, u.Host); err != nil {
		return nil, "", err
	}
	cfg := s3.Config{Bucket: u.Host, Region: q["region"], Endpoint: q["endpoint"], KMSKeyID: q["kms-key-id"]}
	if cfg.PathStyle, err = parseBool(u, q, "path-style", cfg.Endpoint != ""); err != nil {
		return nil, "", err
	}
	if cfg.SSE, err = s3.ParseSSE(q["sse"]); err != nil {
		return nil, "", fmt.Errorf("objstore: bad URL %q: %w", u.Redacted(), err)
	}
	if cfg.KMSKeyID != "" && cfg.SSE != s3.SSEKMS {
		return nil, "", fmt.Errorf("objstore: bad URL %q: kms-key-id needs sse=kms", u.Redacted())
	}
	if cfg.Endpoint != "" {
		if e, err := url.Parse(cfg.Endpoint); err != nil || (e.Scheme != "http" && e.Scheme != "https") || e.Host == "" {
			return nil, "", fmt.Errorf("objstore: bad URL %q: endpoint %q must be http(s)://host[:port]", u.Redacted(), cfg.Endpoint)
		}
	}
	b, err := s3.New(ctx, cfg)
	return b, u.Path, err
}

func openGCS(ctx context.Context, u *url.URL) (Bucket, string, error) {
	if _, err := query(u); err != nil {
		return nil, "", err
	}
	if err := requireBucket(u, u.Host); err != nil {
		return nil, "", err
	}
	b, err := gcs.New(ctx, gcs.Config{Bucket: u.Host})
	return b, u.Path, err
}

func openMinio(ctx context.Context, u *url.URL) (Bucket, string, error) {
	q, err := query(u, "secure", "region")
	if err != nil {
		return nil, "", err
	}
	if u.Host == "" {
		return nil, "", fmt.Errorf("objstore: bad URL %q: no host:port", u.Redacted())
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if err := requireBucket(u, bucket); err != nil {
		return nil, "", err
	}
	cfg := minio.Config{Endpoint: u.Host, Bucket: bucket, Region: q["region"]}
	if cfg.Secure, err = parseBool(u, q, "secure", true); err != nil {
		return nil, "", err
	}
	cfg.AccessKey, cfg.SecretKey = minioKeys()
	b, err := minio.New(ctx, cfg)
	return b, prefix, err
}

// minioKeys picks the first complete key pair from the environment.
func minioKeys() (string, minio.Secret) {
	for _, pair := range [][2]string{
		{"MINIO_ACCESS_KEY", "MINIO_SECRET_KEY"},
		{"MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"},
		{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
	} {
		if id, secret := os.Getenv(pair[0]), os.Getenv(pair[1]); id != "" && secret != "" {
			return id, minio.Secret(secret)
		}
	}
	return "", ""
}
