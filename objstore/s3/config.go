package s3

import (
	"fmt"
	"strings"
)

// SSE selects server-side encryption for uploaded objects.
type SSE string

const (
	// SSENone leaves encryption to the bucket's default.
	SSENone SSE = ""
	// SSES3 is SSE-S3 (AES256 with S3-managed keys).
	SSES3 SSE = "AES256"
	// SSEKMS is SSE-KMS; Config.KMSKeyID picks the key (empty: the AWS-managed key).
	SSEKMS SSE = "aws:kms"
)

// ParseSSE accepts "", "none", "s3", "AES256", "kms" and "aws:kms".
func ParseSSE(s string) (SSE, error) {
	switch strings.ToLower(s) {
	case "", "none":
		return SSENone, nil
	case "s3", "aes256", "sse-s3":
		return SSES3, nil
	case "kms", "aws:kms", "sse-kms":
		return SSEKMS, nil
	}
	return "", fmt.Errorf("unknown server-side encryption %q (want s3 or kms)", s)
}

// Config describes one S3 bucket.
type Config struct {
	// Bucket is the bucket name (required).
	Bucket string
	// Region; empty uses the AWS chain (AWS_REGION, shared config), and
	// "us-east-1" when that yields nothing and Endpoint is set.
	Region string
	// Endpoint is a custom endpoint URL such as http://127.0.0.1:9000.
	Endpoint string
	// PathStyle addresses the bucket as endpoint/bucket rather than
	// bucket.endpoint; needed by most S3-compatible stores.
	PathStyle bool
	// SSE and KMSKeyID choose server-side encryption.
	SSE      SSE
	KMSKeyID string
	// AccessKeyID and SecretAccessKey, when both set, replace the AWS
	// credentials chain. SessionToken is optional.
	AccessKeyID     string
	SecretAccessKey Secret
	SessionToken    Secret
}

// Secret is a string that never prints.
type Secret string

// String hides the value.
func (Secret) String() string { return "<redacted>" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return `"<redacted>"` }
