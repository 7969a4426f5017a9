package metastore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestIsTransient(t *testing.T) {
	for _, err := range []error{
		rpctypes.ErrTimeout, rpctypes.ErrLeaderChanged, rpctypes.ErrNoLeader,
		fmt.Errorf("metastore: create topic: %w", rpctypes.ErrTimeout),
		context.DeadlineExceeded, status.Error(codes.Unavailable, "down"),
	} {
		if !IsTransient(err) {
			t.Errorf("IsTransient(%v) = false", err)
		}
	}
	for _, err := range []error{nil, ErrExists, ErrNotFound, ErrFenced, errors.New("bad"), status.Error(codes.InvalidArgument, "x")} {
		if IsTransient(err) {
			t.Errorf("IsTransient(%v) = true", err)
		}
	}
}
