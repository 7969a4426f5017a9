package metamanifest

import (
	"context"

	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/tiering/remote"
)

// Store is the part of *metastore.Store the adapter uses.
type Store interface {
	ListSegments(ctx context.Context, topicID [16]byte, partition int32) ([]metastore.RemoteSegment, error)
	WatchManifest(ctx context.Context, fn func(seg metastore.RemoteSegment, deleted bool)) error
}

// New returns s as a remote.Manifest.
func New(s Store) remote.Manifest { return manifest{s} }

type manifest struct{ s Store }

func (m manifest) ListSegments(ctx context.Context, topicID [16]byte, partition int32) ([]remote.Segment, error) {
	segs, err := m.s.ListSegments(ctx, topicID, partition)
	if err != nil {
		return nil, err
	}
	out := make([]remote.Segment, len(segs))
	for i, s := range segs {
		out[i] = remote.Segment(s)
	}
	return out, nil
}

func (m manifest) WatchManifest(ctx context.Context, fn func(remote.Segment, bool)) error {
	return m.s.WatchManifest(ctx, func(s metastore.RemoteSegment, deleted bool) {
		fn(remote.Segment(s), deleted)
	})
}

var _ Store = (*metastore.Store)(nil)
