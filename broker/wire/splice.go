package wire

import (
	"crypto/rand"
	"encoding/binary"
	"errors"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// minSpliceBytes is the record volume above which a fetch response is
// written with its record batches spliced in rather than copied.
const minSpliceBytes = 256 << 10

// AppendFetchSpliced encodes a Fetch response frame without copying its
// record batches into the encoding: kmsg encodes the response with a small
// unique marker in place of each partition's records, and the markers (and
// their length prefixes) are then replaced by the stored batches as
// separate buffers, written with one writev. The frame is byte-for-byte
// what AppendResponse would produce. ok is false when the response is too
// small to be worth it; the caller then uses AppendResponse.
func AppendFetchSpliced(dst []byte, correlationID int32, resp *kmsg.FetchResponse) (bufs [][]byte, ok bool, err error) {
	total := 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			total += len(resp.Topics[ti].Partitions[pi].RecordBatches)
		}
	}
	if total < minSpliceBytes {
		return nil, false, nil
	}
	var tag [8]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return nil, false, err
	}
	type slot struct {
		data   []byte
		marker [16]byte
	}
	var slots []slot
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			if len(p.RecordBatches) == 0 {
				continue
			}
			s := slot{data: p.RecordBatches}
			copy(s.marker[:8], tag[:])
			binary.BigEndian.PutUint64(s.marker[8:], uint64(len(slots)))
			slots = append(slots, s)
		}
	}
	i := 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			if len(p.RecordBatches) == 0 {
				continue
			}
			p.RecordBatches = slots[i].marker[:]
			i++
		}
	}
	enc := AppendResponse(dst, correlationID, resp)
	// Put the real batches back: the response stays usable by the caller.
	i = 0
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			p := &resp.Topics[ti].Partitions[pi]
			if len(p.RecordBatches) == 16 && i < len(slots) && string(p.RecordBatches) == string(slots[i].marker[:]) {
				p.RecordBatches = slots[i].data
				i++
			}
		}
	}

	flexible := resp.IsFlexible()
	last, pos, size := 0, 0, len(enc)-4
	for _, s := range slots {
		m := indexFrom(enc, pos, s.marker[:])
		if m < 0 {
			return nil, false, errors.New("wire: fetch splice marker not found")
		}
		var prefix []byte
		var start int
		if flexible {
			if m < 1 || enc[m-1] != 17 {
				return nil, false, errors.New("wire: unexpected compact length before fetch splice marker")
			}
			start = m - 1
			prefix = binary.AppendUvarint(nil, uint64(len(s.data))+1)
		} else {
			if m < 4 || binary.BigEndian.Uint32(enc[m-4:]) != 16 {
				return nil, false, errors.New("wire: unexpected length before fetch splice marker")
			}
			start = m - 4
			prefix = binary.BigEndian.AppendUint32(nil, uint32(len(s.data)))
		}
		bufs = append(bufs, enc[last:start], prefix, s.data)
		size += len(prefix) + len(s.data) - (m + 16 - start)
		last = m + 16
		pos = last
	}
	bufs = append(bufs, enc[last:])
	binary.BigEndian.PutUint32(enc[0:4], uint32(size))
	return bufs, true, nil
}

func indexFrom(b []byte, from int, sub []byte) int {
	for i := from; i+len(sub) <= len(b); i++ {
		if b[i] == sub[0] && string(b[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}
