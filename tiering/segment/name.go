package segment

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// nameExt is the extension of every segment object.
const nameExt = ".seg"

// ObjectName identifies one uploaded segment object:
// "<topic-id hex>/<partition>/<base-offset %020d>-<leader-epoch>-<uuid>.seg".
// The random ID makes every upload attempt a distinct object, so a retried or
// deposed upload never overwrites a committed one.
type ObjectName struct {
	TopicID     [16]byte
	Partition   int32
	BaseOffset  int64
	LeaderEpoch int32
	ID          [16]byte
}

// NewID returns a random (version 4) UUID for an ObjectName.
func NewID() [16]byte {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails on supported platforms.
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// PartitionPrefix is the name prefix (ending in "/") shared by every object
// of one partition, for listing.
func PartitionPrefix(topicID [16]byte, partition int32) string {
	return hex.EncodeToString(topicID[:]) + "/" + strconv.FormatInt(int64(partition), 10) + "/"
}

// Name renders n as an object name.
func Name(n ObjectName) string {
	return fmt.Sprintf("%s%020d-%d-%s%s", PartitionPrefix(n.TopicID, n.Partition),
		n.BaseOffset, n.LeaderEpoch, formatUUID(n.ID), nameExt)
}

// String is Name(n).
func (n ObjectName) String() string { return Name(n) }

// ParseName is the inverse of Name. It accepts exactly the names Name
// produces (no leading bucket prefix).
func ParseName(s string) (ObjectName, error) {
	bad := func(why string) (ObjectName, error) {
		return ObjectName{}, fmt.Errorf("segment: bad object name %q: %s", s, why)
	}
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return bad("want <topic-id>/<partition>/<file>")
	}
	var n ObjectName
	if len(parts[0]) != 32 {
		return bad("topic id is not 32 hex digits")
	}
	if _, err := hex.Decode(n.TopicID[:], []byte(parts[0])); err != nil || strings.ToLower(parts[0]) != parts[0] {
		return bad("topic id is not lower-case hex")
	}
	p, err := parseCanonicalInt(parts[1], 31)
	if err != nil {
		return bad("partition: " + err.Error())
	}
	n.Partition = int32(p)
	stem, ok := strings.CutSuffix(parts[2], nameExt)
	if !ok {
		return bad("missing " + nameExt)
	}
	// <base:20 digits>-<epoch>-<uuid:36>
	if len(stem) < 20+1+1+1+36 || stem[20] != '-' || stem[len(stem)-37] != '-' {
		return bad("want <base-offset>-<leader-epoch>-<uuid>")
	}
	base, err := strconv.ParseInt(stem[:20], 10, 64)
	if err != nil || base < 0 || strings.ContainsAny(stem[:20], "+-") {
		return bad("base offset is not 20 decimal digits")
	}
	n.BaseOffset = base
	e, err := parseCanonicalInt(stem[21:len(stem)-37], 31)
	if err != nil {
		return bad("leader epoch: " + err.Error())
	}
	n.LeaderEpoch = int32(e)
	id, ok := parseUUID(stem[len(stem)-36:])
	if !ok {
		return bad("malformed uuid")
	}
	n.ID = id
	return n, nil
}

// parseCanonicalInt parses a non-negative decimal with no sign and no
// leading zeros, so that every value has exactly one spelling.
func parseCanonicalInt(s string, bits int) (int64, error) {
	if s == "" || s[0] == '+' || s[0] == '-' || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%q is not a canonical non-negative integer", s)
	}
	v, err := strconv.ParseInt(s, 10, bits+1)
	if err != nil || v < 0 || v >= 1<<bits {
		return 0, fmt.Errorf("%q is not a canonical non-negative integer", s)
	}
	return v, nil
}

func formatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func parseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	if strings.ToLower(h) != h {
		return u, false
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, false
	}
	return u, true
}
