package compat

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// withCode wraps err so that errors.Is matches the *kerr.Error for a Kafka
// error code, whatever type the client library used for it. Code 0 or an
// unknown code returns err unchanged.
func withCode(err error, code int16) error {
	if err == nil || code == 0 {
		return err
	}
	ke := kerr.ErrorForCode(code)
	if ke == kerr.UnknownServerError && code != kerr.UnknownServerError.Code {
		return err
	}
	return fmt.Errorf("%w: %w", ke, err)
}
