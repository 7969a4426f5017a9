package replica

import (
	"encoding/binary"
	"hash/crc32"
)

// testBatch builds a valid uncompressed magic-v2 batch of n records whose
// values carry tag and i (base offset and leader epoch are stamped by
// partlog.Append).
func testBatch(n int, tag byte, i int) []byte {
	var recs []byte
	for r := range n {
		var body []byte
		body = append(body, 0)
		body = binary.AppendVarint(body, int64(r)) // timestamp delta
		body = binary.AppendVarint(body, int64(r)) // offset delta
		body = binary.AppendVarint(body, -1)       // null key
		val := []byte{tag, byte(i), byte(i >> 8), byte(r), 'v', 'a', 'l', 'u', 'e'}
		body = binary.AppendVarint(body, int64(len(val)))
		body = append(body, val...)
		body = binary.AppendVarint(body, 0) // headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	be := binary.BigEndian
	b := make([]byte, 61, 61+len(recs))
	be.PutUint32(b[8:], uint32(61-12+len(recs)))
	be.PutUint32(b[12:], 0xffffffff)
	b[16] = 2
	be.PutUint32(b[23:], uint32(n-1))
	be.PutUint64(b[27:], 1000)
	be.PutUint64(b[35:], uint64(1000+n-1))
	be.PutUint64(b[43:], ^uint64(0)) // producer id -1
	be.PutUint16(b[51:], 0xffff)
	be.PutUint32(b[53:], 0xffffffff)
	be.PutUint32(b[57:], uint32(n))
	b = append(b, recs...)
	be.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}
