package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/strata-io/strata/objstore/internal/objcore"
	"github.com/strata-io/strata/objstore/internal/spool"
)

// Config describes one GCS bucket.
type Config struct {
	// Bucket is the bucket name (required).
	Bucket string
	// Options are extra client options (credentials file, endpoint, ...).
	Options []option.ClientOption
}

// Bucket is a GCS bucket. It is safe for concurrent use.
type Bucket struct {
	cl     *storage.Client
	bkt    *storage.BucketHandle
	bucket string
	owned  bool // Close closes cl
}

// New creates a client and checks the bucket exists and is readable;
// otherwise the error names the bucket and the cause.
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("objstore/gcs: no bucket name")
	}
	cl, err := storage.NewClient(ctx, cfg.Options...)
	if err != nil {
		return nil, fmt.Errorf("objstore/gcs: bucket %q: create client: %w", cfg.Bucket, err)
	}
	b := wrap(cl, cfg.Bucket)
	b.owned = true
	if err := b.Check(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	return b, nil
}

// NewWithClient uses an existing client (which the caller closes) and
// checks the bucket.
func NewWithClient(ctx context.Context, cl *storage.Client, bucket string) (*Bucket, error) {
	if bucket == "" {
		return nil, errors.New("objstore/gcs: no bucket name")
	}
	b := wrap(cl, bucket)
	if err := b.Check(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

func wrap(cl *storage.Client, bucket string) *Bucket {
	bkt := cl.Bucket(bucket).Retryer(storage.WithPolicy(storage.RetryNever)) // objstore.WithRetry retries
	return &Bucket{cl: cl, bkt: bkt, bucket: bucket}
}

// Check reads the bucket's metadata.
func (b *Bucket) Check(ctx context.Context) error {
	_, err := b.bkt.Attrs(ctx)
	if err == nil {
		return nil
	}
	cause := "cannot reach the bucket"
	switch st := httpStatus(err); {
	case errors.Is(err, storage.ErrBucketNotExist) || st == http.StatusNotFound:
		cause = "bucket does not exist"
	case st == http.StatusUnauthorized:
		cause = "credentials rejected"
	case st == http.StatusForbidden:
		cause = "access denied (check credentials and IAM)"
	}
	return fmt.Errorf("objstore/gcs: bucket %q: %s: %w", b.bucket, cause, err)
}

func httpStatus(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// IsTransient reports whether a GCS error is worth retrying (429, 5xx).
func IsTransient(err error) bool {
	st := httpStatus(err)
	return st == http.StatusTooManyRequests || st >= 500
}

func (b *Bucket) mapErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	st := httpStatus(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	case errors.Is(err, storage.ErrObjectNotExist) || st == http.StatusNotFound:
		sentinel = objcore.ErrNotFound
	case st == http.StatusPreconditionFailed:
		sentinel = objcore.ErrPreconditionFailed
	case IsTransient(err):
		sentinel = objcore.ErrTransient
	}
	if sentinel != nil {
		return fmt.Errorf("objstore/gcs: %s gs://%s/%s: %w: %w", op, b.bucket, name, sentinel, err)
	}
	return fmt.Errorf("objstore/gcs: %s gs://%s/%s: %w", op, b.bucket, name, err)
}

func (b *Bucket) put(ctx context.Context, op, name string, r io.Reader, ifNotExists bool) error {
	if err := objcore.ValidateName(name); err != nil {
		return err
	}
	// Spool first: a failing reader then never starts an upload, and a
	// known size lets a small object go in one request.
	body, err := spool.New(r)
	if err != nil {
		return fmt.Errorf("objstore/gcs: %s gs://%s/%s: %w", op, b.bucket, name, err)
	}
	defer body.Close()
	obj := b.bkt.Object(name)
	if ifNotExists {
		obj = obj.If(storage.Conditions{DoesNotExist: true})
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := obj.NewWriter(wctx)
	if body.Size < 16<<20 {
		w.ChunkSize = 0 // one request
	}
	if _, err := io.Copy(w, body); err != nil {
		cancel() // abandons the upload; nothing is committed
		_ = w.Close()
		return b.mapErr(op, name, err)
	}
	return b.mapErr(op, name, w.Close())
}

// Upload writes the object; GCS replaces objects atomically.
func (b *Bucket) Upload(ctx context.Context, name string, r io.Reader) error {
	return b.put(ctx, "upload", name, r, false)
}

// UploadIfNotExists writes with the DoesNotExist precondition.
func (b *Bucket) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	return b.put(ctx, "conditional upload", name, r, true)
}

// Get opens the object.
func (b *Bucket) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.GetRange(ctx, name, 0, -1)
}

// GetRange reads a byte range. A range starting at or past the end is
// empty (GCS answers 416 for it) when the object exists.
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
	r, err := b.bkt.Object(name).NewRangeReader(ctx, off, length)
	if err != nil {
		if httpStatus(err) == http.StatusRequestedRangeNotSatisfiable {
			return objcore.EmptyIfExists(ctx, b.Attributes, name)
		}
		return nil, b.mapErr("get", name, err)
	}
	return r, nil
}

// Exists reports whether the object exists.
func (b *Bucket) Exists(ctx context.Context, name string) (bool, error) {
	return objcore.Exists(ctx, b.Attributes, name)
}

// Attributes returns size and update time.
func (b *Bucket) Attributes(ctx context.Context, name string) (objcore.Attributes, error) {
	if err := objcore.ValidateName(name); err != nil {
		return objcore.Attributes{}, err
	}
	attrs, err := b.bkt.Object(name).Attrs(ctx)
	if err != nil {
		return objcore.Attributes{}, b.mapErr("stat", name, err)
	}
	return objcore.Attributes{Size: attrs.Size, LastModified: attrs.Updated}, nil
}

// Iter lists objects by prefix; GCS lists in lexicographic (byte) order.
func (b *Bucket) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	q := &storage.Query{Prefix: prefix}
	if err := q.SetAttrSelection([]string{"Name"}); err != nil {
		return fmt.Errorf("objstore/gcs: list gs://%s/%s: %w", b.bucket, prefix, err)
	}
	it := b.bkt.Objects(ctx, q)
	for {
		attrs, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return b.mapErr("list", prefix, err)
		}
		if err := fn(attrs.Name); err != nil {
			return err
		}
	}
}

// Delete removes the object (ErrNotFound if missing).
func (b *Bucket) Delete(ctx context.Context, name string) error {
	if err := objcore.ValidateName(name); err != nil {
		return err
	}
	return b.mapErr("delete", name, b.bkt.Object(name).Delete(ctx))
}

// Close closes the client if New created it.
func (b *Bucket) Close() error {
	if b.owned {
		return b.cl.Close()
	}
	return nil
}

var _ objcore.Bucket = (*Bucket)(nil)
