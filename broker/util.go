package broker

import (
	"hash/crc32"
	"time"
)

func msDuration(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
