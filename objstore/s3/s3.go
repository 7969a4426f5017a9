package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/strata-io/strata/objstore/internal/objcore"
	"github.com/strata-io/strata/objstore/internal/spool"
)

// Bucket is an S3 bucket. It is safe for concurrent use.
type Bucket struct {
	cl     *s3sdk.Client
	bucket string
	cfg    Config
}

// New connects to the bucket and checks that it exists and the credentials
// may list it; otherwise the error names the bucket and the cause.
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	b, err := NewUnchecked(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := b.Check(ctx); err != nil {
		return nil, err
	}
	return b, nil
}

// NewUnchecked builds the client without contacting the store.
func NewUnchecked(ctx context.Context, cfg Config) (*Bucket, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("objstore/s3: no bucket name")
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.AccessKeyID != "" || cfg.SecretAccessKey != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			cfg.AccessKeyID, string(cfg.SecretAccessKey), string(cfg.SessionToken))))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("objstore/s3: bucket %q: load AWS config: %w", cfg.Bucket, err)
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, fmt.Errorf("objstore/s3: bucket %q: no region (set region= or AWS_REGION)", cfg.Bucket)
		}
		awsCfg.Region = "us-east-1"
	}
	cl := s3sdk.NewFromConfig(awsCfg, func(o *s3sdk.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		o.RetryMaxAttempts = 1 // objstore.WithRetry retries
		// MinIO and others return no checksum on ranged GETs; the SDK would
		// log that on every read.
		o.DisableLogOutputChecksumValidationSkipped = true
		// Uploads carry one CRC-32C checksum (set per request, verified by
		// the store) instead of a SHA-256 of the payload for the signature
		// plus the SDK's default CRC-32: hashing every byte twice cost about
		// a tenth of the broker's CPU while producing with tiering on.
		// Segment objects carry their own checksums, verified on every read,
		// so responses need no SDK-side validation either.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	})
	return &Bucket{cl: cl, bucket: cfg.Bucket, cfg: cfg}, nil
}

// Check lists at most one object, which proves the bucket exists and the
// credentials are accepted.
func (b *Bucket) Check(ctx context.Context) error {
	_, err := b.cl.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: &b.bucket, MaxKeys: aws.Int32(1)})
	if err == nil {
		return nil
	}
	var cause string
	switch c := code(err); c {
	case "NoSuchBucket":
		cause = "bucket does not exist"
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken":
		cause = "credentials rejected (" + c + ")"
	case "AccessDenied", "Forbidden":
		cause = "access denied (check credentials and bucket policy)"
	default:
		cause = "cannot reach the bucket"
	}
	return fmt.Errorf("objstore/s3: bucket %q: %s: %w", b.bucket, cause, err)
}

// Client exposes the SDK client (for tests and tools).
func (b *Bucket) Client() *s3sdk.Client { return b.cl }

func (b *Bucket) put(ctx context.Context, op, name string, r io.Reader, ifNoneMatch bool) error {
	if err := objcore.ValidateName(name); err != nil {
		return err
	}
	body, err := spool.New(r)
	if err != nil {
		return fmt.Errorf("objstore/s3: %s s3://%s/%s: %w", op, b.bucket, name, err)
	}
	defer body.Close()
	in := &s3sdk.PutObjectInput{
		Bucket:        &b.bucket,
		Key:           &name,
		Body:          body,
		ContentLength: aws.Int64(body.Size),
		// Verified by the store against the bytes it received.
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}
	switch b.cfg.SSE {
	case SSES3:
		in.ServerSideEncryption = types.ServerSideEncryptionAes256
	case SSEKMS:
		in.ServerSideEncryption = types.ServerSideEncryptionAwsKms
		if b.cfg.KMSKeyID != "" {
			in.SSEKMSKeyId = aws.String(b.cfg.KMSKeyID)
		}
	}
	if ifNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	_, err = b.cl.PutObject(ctx, in)
	return mapErr(op, b.bucket, name, err)
}

// Upload writes the object with one PutObject (S3 replaces objects
// atomically). The body is spooled first so a failing reader sends nothing.
func (b *Bucket) Upload(ctx context.Context, name string, r io.Reader) error {
	return b.put(ctx, "upload", name, r, false)
}

// UploadIfNotExists writes with If-None-Match: * (412, or 409 for a lost
// race, become ErrPreconditionFailed).
func (b *Bucket) UploadIfNotExists(ctx context.Context, name string, r io.Reader) error {
	return b.put(ctx, "conditional upload", name, r, true)
}

// Get opens the object.
func (b *Bucket) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	return b.GetRange(ctx, name, 0, -1)
}

// GetRange reads a byte range with a Range header. S3 cannot express an
// empty range and answers 416 for one starting past the end; both become an
// empty reader once a HeadObject shows the object exists.
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
	in := &s3sdk.GetObjectInput{Bucket: &b.bucket, Key: &name}
	switch {
	case length > 0:
		in.Range = aws.String("bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+length-1, 10))
	case off > 0:
		in.Range = aws.String("bytes=" + strconv.FormatInt(off, 10) + "-")
	}
	out, err := b.cl.GetObject(ctx, in)
	if err != nil {
		if code(err) == "InvalidRange" || status(err) == 416 {
			return objcore.EmptyIfExists(ctx, b.Attributes, name)
		}
		return nil, mapErr("get", b.bucket, name, err)
	}
	return out.Body, nil
}

// Exists reports whether the object exists (HeadObject).
func (b *Bucket) Exists(ctx context.Context, name string) (bool, error) {
	return objcore.Exists(ctx, b.Attributes, name)
}

// Attributes returns size and modification time (HeadObject).
func (b *Bucket) Attributes(ctx context.Context, name string) (objcore.Attributes, error) {
	if err := objcore.ValidateName(name); err != nil {
		return objcore.Attributes{}, err
	}
	out, err := b.cl.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: &b.bucket, Key: &name})
	if err != nil {
		return objcore.Attributes{}, mapErr("head", b.bucket, name, err)
	}
	return objcore.Attributes{Size: aws.ToInt64(out.ContentLength), LastModified: aws.ToTime(out.LastModified)}, nil
}

// Iter lists with ListObjectsV2, which returns keys in ascending UTF-8
// byte order.
func (b *Bucket) Iter(ctx context.Context, prefix string, fn func(string) error) error {
	in := &s3sdk.ListObjectsV2Input{Bucket: &b.bucket}
	if prefix != "" {
		in.Prefix = &prefix
	}
	p := s3sdk.NewListObjectsV2Paginator(b.cl, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return mapErr("list", b.bucket, prefix, err)
		}
		for _, obj := range page.Contents {
			if err := fn(aws.ToString(obj.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes the object. S3 deletes succeed for missing keys, so a
// HeadObject first reports ErrNotFound (racy against a concurrent delete,
// which is harmless: the object is gone either way).
func (b *Bucket) Delete(ctx context.Context, name string) error {
	if _, err := b.Attributes(ctx, name); err != nil {
		return err
	}
	_, err := b.cl.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: &b.bucket, Key: &name})
	return mapErr("delete", b.bucket, name, err)
}

// Close is a no-op; the SDK client holds no resources that need releasing.
func (b *Bucket) Close() error { return nil }

var _ objcore.Bucket = (*Bucket)(nil)
