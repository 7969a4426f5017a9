package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/strata-io/strata/objstore/internal/objcore"
)

// code and status extract the S3 error code and HTTP status from an SDK error.
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// mapErr turns an SDK error into one wrapping the objstore sentinel it
// means, keeping the SDK error in the chain for the message.
func mapErr(op, bucket, name string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	c, st := code(err), status(err)
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
	case c == "NoSuchKey" || c == "NotFound" || (st == http.StatusNotFound && c != "NoSuchBucket"):
		sentinel = objcore.ErrNotFound
	case c == "PreconditionFailed" || c == "ConditionalRequestConflict" ||
		st == http.StatusPreconditionFailed || st == http.StatusConflict:
		// 409 ConditionalRequestConflict: a concurrent conditional write won.
		sentinel = objcore.ErrPreconditionFailed
	case IsTransient(err):
		sentinel = objcore.ErrTransient
	}
	if sentinel != nil {
		return fmt.Errorf("objstore/s3: %s s3://%s/%s: %w: %w", op, bucket, name, sentinel, err)
	}
	return fmt.Errorf("objstore/s3: %s s3://%s/%s: %w", op, bucket, name, err)
}

// IsTransient reports whether an SDK error is worth retrying: throttling
// (503 SlowDown and friends), other 5xx answers and request timeouts.
func IsTransient(err error) bool {
	switch code(err) {
	case "SlowDown", "Throttling", "ThrottlingException", "RequestThrottled",
		"RequestLimitExceeded", "TooManyRequestsException", "RequestTimeout",
		"RequestTimeTooSkewed", "InternalError", "ServiceUnavailable", "XMinioServerNotInitialized":
		return true
	}
	st := status(err)
	return st == http.StatusTooManyRequests || st >= 500
}
