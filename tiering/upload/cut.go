package upload

import (
	"errors"
	"fmt"
	"io"

	"github.com/strata-io/strata/broker/partlog"
	"github.com/strata-io/strata/tiering/segment"
)

// source is the part of a local segment that becomes one object.
type source struct {
	log         io.ReaderAt // the log section, from its first batch
	size        int64
	base        int64 // base offset of the first batch
	offsetIndex []byte
	timeIndex   []byte
}

// cut returns the part of seg (read through f) to upload given that the
// remote log already holds every offset up to uploaded: all of seg when it
// starts above uploaded, else its tail from the first batch whose base
// offset is above uploaded. After a leader change the new leader's segment
// boundaries differ from the old leader's, so its first sealed segment
// usually straddles the remote end; uploading it whole would overlap the
// manifest. A batch holding uploaded+1 without starting there cannot be
// split: it is skipped (the remote log then has a gap; it cannot happen
// while both leaders' logs agree, as uploads end at batch boundaries).
// errNothingAbove means no batch starts above uploaded.
func cut(f io.ReaderAt, seg partlog.SealedSegment, uploaded int64) (source, error) {
	if seg.BaseOffset > uploaded {
		return source{log: f, size: seg.Size, base: seg.BaseOffset, offsetIndex: seg.OffsetIndex, timeIndex: seg.TimeIndex}, nil
	}
	t, err := segment.TailFrom(f, seg.Size, seg.OffsetIndex, seg.TimeIndex, seg.BaseOffset, uploaded+1)
	if errors.Is(err, segment.ErrOutOfRange) {
		return source{}, fmt.Errorf("%w: segment [%d,%d], remote log ends at %d: %w", errNothingAbove, seg.BaseOffset, seg.LastOffset, uploaded, err)
	}
	if err != nil {
		return source{}, fmt.Errorf("cut segment %d at %d: %w", seg.BaseOffset, uploaded+1, err)
	}
	size := seg.Size - t.Pos
	return source{
		log:         io.NewSectionReader(f, t.Pos, size),
		size:        size,
		base:        t.BaseOffset,
		offsetIndex: t.OffsetIndex,
		timeIndex:   t.TimeIndex,
	}, nil
}
