package s3

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/strata-io/strata/objstore/internal/objcore"
)

func apiErr(status int, code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: "m"},
		},
	}}
}

func TestMapErr(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   error
	}{
		{404, "NoSuchKey", objcore.ErrNotFound},
		{404, "NotFound", objcore.ErrNotFound},
		{404, "NoSuchBucket", nil},
		{412, "PreconditionFailed", objcore.ErrPreconditionFailed},
		{409, "ConditionalRequestConflict", objcore.ErrPreconditionFailed},
		{503, "SlowDown", objcore.ErrTransient},
		{500, "InternalError", objcore.ErrTransient},
		{400, "RequestTimeout", objcore.ErrTransient},
		{429, "TooManyRequests", objcore.ErrTransient},
		{403, "AccessDenied", nil},
	} {
		err := mapErr("op", "b", "k", apiErr(tc.status, tc.code))
		for _, s := range []error{objcore.ErrNotFound, objcore.ErrPreconditionFailed, objcore.ErrTransient} {
			if errors.Is(err, s) != (s == tc.want) {
				t.Errorf("%d %s: errors.Is(%v) = %v", tc.status, tc.code, s, !(s == tc.want))
			}
		}
		if code(err) != tc.code {
			t.Errorf("%d %s: the SDK error is not kept in the chain: %v", tc.status, tc.code, err)
		}
	}
	if err := mapErr("op", "b", "k", fmt.Errorf("x: %w", errors.New("y"))); errors.Is(err, objcore.ErrTransient) {
		t.Error("a plain error became transient")
	}
}
