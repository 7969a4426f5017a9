package broker

import (
	"encoding/binary"
	"time"
)

func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

func msDuration(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }
