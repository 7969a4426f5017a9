// Package segment owns the object-storage format of one sealed partition-log
// segment: its object name and its bytes.
//
// An object is, in order: the record batches exactly as the partition log
// stored them, the offset index, the time index, the leader-epoch section,
// then a fixed-size footer (FooterSize bytes, big endian):
//
//	 0  magic "STRATSEG"          8 bytes
//	 8  version                   uint16 (1)
//	10  flags                     uint16 (0)
//	12  leader epoch              int32  (of the uploading leader)
//	16  base offset               int64  (the segment's base; index offsets are relative to it)
//	24  last offset               int64
//	32  max timestamp             int64
//	40  record batch count        int64
//	48  record count              int64
//	56  4 sections x {offset int64, size int64, crc32c uint32}:
//	    log, offset index, time index, leader epochs
//	136 reserved                  4 bytes (0)
//	140 crc32c of bytes 0..139    uint32
//
// The index layouts are the partition log's: offset index entries are
// {relative offset uint32, position uint32}; time index entries are
// {timestamp int64, relative offset uint32}. Leader-epoch entries are
// {epoch int32, start offset int64}, one per change of the batches'
// partition leader epoch.
//
// Readers fetch the footer with one ranged read (ReadFooter), the small
// sections with one more each (ReadSection verifies the checksum), and serve
// positions from them (Footer.Lookup, Footer.TimeLookup). Malformed input of
// any kind yields an error wrapping ErrCorrupt, never a panic.
//
// TailFrom cuts a segment at a batch boundary so that only its part above a
// given offset becomes an object (a new leader whose local segment straddles
// the end of what the previous leader uploaded).
package segment
