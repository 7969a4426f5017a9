package minio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	mc "github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/strata-io/strata/objstore/internal/objcore"
	"github.com/strata-io/strata/objstore/internal/spool"
)

// Secret is a string that never prints.
type Secret string

// String hides the value.
func (Secret) String() string { return "<redacted>" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return `"<redacted>"` }

// Config describes one bucket on a MinIO (or S3-compatible) server.
type Config struct {
	// Endpoint is host:port, without a scheme.
	Endpoint string
	// Bucket is the bucket name (required).
	Bucket string
	// Secure selects https.
	Secure bool
	// Region is optional.
	Region    string
	AccessKey string
	SecretKey Secret
}

// Bucket is a bucket on a MinIO server. It is safe for concurrent use.
type Bucket struct {
	cl     *mc.Client
	core   mc.Core
	bucket string
	url    string // for messages: minio://endpoint/bucket
}

// New connects and checks that the bucket exists and the credentials are
// accepted; otherwise the error names the bucket and the cause.
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	b, err := NewUnchecked(cfg)
	if err != nil {
		return nil, err
	}
	if err := b.Check(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// NewUnchecked builds the client without contacting the server.
func NewUnchecked(cfg Config) (*Bucket, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("objstore/minio: no bucket name")
	}
	if cfg.Endpoint == "" {
		return nil, fmt.Errorf("objstore/minio: bucket %q: no endpoint", cfg.Bucket)
	}
	cl, err := mc.New(cfg.Endpoint, &mc.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, string(cfg.SecretKey), ""),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: mc.BucketLookupPath,
		MaxRetries:   1, // objstore.WithRetry retries
	})
	if err != nil {
		return nil, fmt.Errorf("objstore/minio: bucket %q at %s: %w", cfg.Bucket, cfg.Endpoint, err)
	}
	return &Bucket{cl: cl, core: mc.Core{Client: cl}, bucket: cfg.Bucket, url: "minio://" + cfg.Endpoint + "/" + cfg.Bucket}, nil
}

// Client exposes the minio-go client (for tests and tools).
func (b *Bucket) Client() *mc.Client { return b.cl }

// Check proves the bucket exists and the credentials are accepted.
func (b *Bucket) Check(ctx context.Context) error {
	ok, err := b.cl.BucketExists(ctx, b.bucket)
	if err != nil {
		cause := "cannot reach the bucket"
		switch c := mc.ToErrorResponse(err).Code; c {
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken":
			cause = "credentials rejected (" + c + ")"
		case "AccessDenied", "Forbidden":
			cause = "access denied (check credentials and bucket policy)"
		}
		return fmt.Errorf("objstore/minio: bucket %q at %s: %s: %w", b.bucket, b.cl.EndpointURL().Host, cause, err)
	}
	if !ok {
		return fmt.Errorf("objstore/minio: bucket %q at %s: bucket does not exist", b.bucket, b.cl.EndpointURL().Host)
	}
	return nil
}

// mapErr wraps a minio-go error with the objstore sentinel it means.
func (b *Bucket) mapErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	resp := mc.ToErrorResponse(err)
	var sentinel error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	case resp.Code == "NoSuchKey" || resp.Code == "NotFound" || (resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket"):
		sentinel = objcore.ErrNotFound
	case resp.Code == "PreconditionFailed" || resp.StatusCode == http.StatusPreconditionFailed ||
		resp.Code == "ConditionalRequestConflict" || resp.StatusCode == http.StatusConflict:
		sentinel = objcore.ErrPreconditionFailed
	case IsTransient(err):
		sentinel = objcore.ErrTransient
	}
	if sentinel != nil {
		return fmt.Errorf("objstore/minio: %s %s/%s: %w: %w", op, b.url, name, sentinel, err)
	}
	return fmt.Errorf("objstore/minio: %s %s/%s: %w", op, b.url, name, err)
}

// IsTransient reports whether a minio-go error is worth retrying.
func IsTransient(err error) bool {
	resp := mc.ToErrorResponse(err)
	switch resp.Code {
	case "SlowDown", "SlowDownRead", "SlowDownWrite", "RequestTimeout", "InternalError",
		"ServiceUnavailable", "XMinioServerNotInitialized", "XMinioStorageFull":
		return true
	}
	return resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
}

func (b *Bucket) put(ctx context.Context, op, name string, r io.Reader, ifNoneMatch bool) error {
	if err := objcore.ValidateName(name); err != nil {
		return err
	}
	body, err := spool.New(r)
	if err != nil {
		return fmt.Errorf("objstore/minio: %s %s/%s: %w", op, b.url, name, err)
	}
	defer body.Close()
	var opts mc.PutObjectOptions
	if ifNoneMatch {
		opts.SetMatchETagExcept("*")
	}
	// Core.PutObject is one PUT (no multipart), so the replace is atomic.
	_, err = b.core.PutObject(ctx, b.bucket, name, body, body.Size, "", "", opts)
	return b.mapErr(op, name, err)
}

// Upload writes the object with a single PUT; the body is spooled first so
// a failing reader sends nothing.
func (b *Bucket) Upload(ctx context.Context, name string, r io.Reader) error {
	return b.put(ctx, "upload", name, r, false)
}

// UploadIfNotExists writes with If-None-Match: *.
func (b *Bucket) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	return b.put(ctx, "conditional upload", name, r, true)
}

// Get opens the object.
func (b *Bucket) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.GetRange(ctx, name, 0, -1)
}

// GetRange reads a byte range. Empty ranges and ranges starting past the
// end (416 from the server) become an empty reader if the object exists.
func (b *Bucket) GetRange(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	if err := objcore.ValidateName(name); err != nil {
		return nil, err
	}
	if err := objcore.ValidateRange(off, length); err != nil {
		return nil, err
	}
	if length == 0 {
		return objcore.EmptyIfExists(ctx, b.Attributes, name)
	}
	var opts mc.GetObjectOptions
	var err error
	switch {
	case length > 0:
		err = opts.SetRange(off, off+length-1)
	case off > 0:
		err = opts.SetRange(off, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("objstore/minio: get %s/%s: %w", b.url, name, err)
	}
	rc, _, _, err := b.core.GetObject(ctx, b.bucket, name, opts)
	if err != nil {
		resp := mc.ToErrorResponse(err)
		if resp.Code == "InvalidRange" || resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
			return objcore.EmptyIfExists(ctx, b.Attributes, name)
		}
		return nil, b.mapErr("get", name, err)
	}
	return rc, nil
}

// Exists reports whether the object exists.
func (b *Bucket) Exists(ctx context.Context, name string) (bool, error) {
	return objcore.Exists(ctx, b.Attributes, name)
}

// Attributes returns size and modification time.
func (b *Bucket) Attributes(ctx context.Context, name string) (objcore.Attributes, error) {
	if err := objcore.ValidateName(name); err != nil {
		return objcore.Attributes{}, err
	}
	info, err := b.cl.StatObject(ctx, b.bucket, name, mc.StatObjectOptions{})
	if err != nil {
		return objcore.Attributes{}, b.mapErr("stat", name, err)
	}
	return objcore.Attributes{Size: info.Size, LastModified: info.LastModified}, nil
}

// Iter lists recursively; S3 listings come in ascending byte order.
func (b *Bucket) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	ctx, cancel := context.WithCancel(ctx) // stops the lister when fn fails
	defer cancel()
	for obj := range b.cl.ListObjects(ctx, b.bucket, mc.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if obj.Err != nil {
			return b.mapErr("list", prefix, obj.Err)
		}
		if err := fn(obj.Key); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Delete removes the object; a missing one is ErrNotFound (checked with a
// stat first, since S3 deletes of missing keys succeed).
func (b *Bucket) Delete(ctx context.Context, name string) error {
	if _, err := b.Attributes(ctx, name); err != nil {
		return err
	}
	return b.mapErr("delete", name, b.cl.RemoveObject(ctx, b.bucket, name, mc.RemoveObjectOptions{}))
}

// Close is a no-op.
func (b *Bucket) Close() error { return nil }

var _ objcore.Bucket = (*Bucket)(nil)
