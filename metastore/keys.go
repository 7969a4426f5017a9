package metastore

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Key layout, all under the store prefix:
//
//	cluster/id                               cluster id (raw string)
//	topics/<topic>                           Topic JSON
//	offsets/<group>/<topic>/<partition>      Offset JSON
//	groups/<group>                           opaque group state blob
//	groupowners/<group>                      GroupOwner JSON: the group's last claim
//	producerids/next                         next free producer id (decimal)
//	brokers/<node-id>                        BrokerInfo JSON, on a lease
//
// Group and topic names are escaped (see escapeName) so that a "/" in a name
// can never make one group's prefix match another's keys.
const (
	dirCluster     = "cluster/"
	dirTopics      = "topics/"
	dirOffsets     = "offsets/"
	dirGroups      = "groups/"
	dirGroupOwners = "groupowners/"
	dirProducerIDs = "producerids/"
	dirBrokers     = "brokers/"
)

func (s *Store) clusterIDKey() string        { return s.prefix + dirCluster + "id" }
func (s *Store) topicsPrefix() string        { return s.prefix + dirTopics }
func (s *Store) topicKey(name string) string { return s.topicsPrefix() + escapeName(name) }
func (s *Store) offsetsPrefix() string       { return s.prefix + dirOffsets }
func (s *Store) groupOffsetsPrefix(group string) string {
	return s.offsetsPrefix() + escapeName(group) + "/"
}
func (s *Store) offsetKey(group, topic string, partition int32) string {
	return s.groupOffsetsPrefix(group) + escapeName(topic) + "/" + strconv.FormatInt(int64(partition), 10)
}
func (s *Store) groupsPrefix() string         { return s.prefix + dirGroups }
func (s *Store) groupKey(group string) string { return s.groupsPrefix() + escapeName(group) }
func (s *Store) groupOwnerKey(group string) string {
	return s.prefix + dirGroupOwners + escapeName(group)
}
func (s *Store) producerIDKey() string { return s.prefix + dirProducerIDs + "next" }
func (s *Store) brokersPrefix() string { return s.prefix + dirBrokers }
func (s *Store) brokerKey(nodeID int32) string {
	return s.brokersPrefix() + strconv.FormatInt(int64(nodeID), 10)
}

// parseOffsetKey is the inverse of offsetKey.
func (s *Store) parseOffsetKey(key string) (OffsetKey, error) {
	rest, ok := strings.CutPrefix(key, s.offsetsPrefix())
	if !ok {
		return OffsetKey{}, fmt.Errorf("metastore: offset key %q outside prefix", key)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 {
		return OffsetKey{}, fmt.Errorf("metastore: malformed offset key %q", key)
	}
	group, err1 := unescapeName(parts[0])
	topic, err2 := unescapeName(parts[1])
	p, err3 := strconv.ParseInt(parts[2], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil {
		return OffsetKey{}, fmt.Errorf("metastore: malformed offset key %q", key)
	}
	return OffsetKey{Group: group, Topic: topic, Partition: int32(p)}, nil
}

// nameFromKey strips dirPrefix from key and unescapes the remaining name
// (which may be empty: Kafka tolerates the empty group id for offsets).
func nameFromKey(key, dirPrefix string) (string, error) {
	rest, ok := strings.CutPrefix(key, dirPrefix)
	if !ok {
		return "", fmt.Errorf("metastore: key %q not under %q", key, dirPrefix)
	}
	return unescapeName(rest)
}

// escapeName percent-encodes every byte outside [A-Za-z0-9._-], so the result
// never contains "/" and the mapping is reversible. Kafka topic names are
// already in that set, so topic keys stay readable.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if isPlainByte(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func isPlainByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-'
}

// unescapeName is the inverse of escapeName.
func unescapeName(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("metastore: bad escape in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("metastore: bad escape in %q: %w", s, err)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// Tiering keys, under the same prefix (see manifest.go):
//
//	leaderepochs/<topic-id hex>/<partition>                 partition leader epoch (decimal)
//	manifest/<topic-id hex>/<partition>/<base-offset:020d>  RemoteSegment JSON
//
// The zero-padded base offset makes key order equal offset order.
const (
	dirLeaderEpochs = "leaderepochs/"
	dirManifest     = "manifest/"
)

func topicPartitionPath(topicID [16]byte, partition int32) string {
	return fmt.Sprintf("%x/%d", topicID[:], partition)
}

func (s *Store) partitionEpochKey(topicID [16]byte, partition int32) string {
	return s.prefix + dirLeaderEpochs + topicPartitionPath(topicID, partition)
}
func (s *Store) manifestPrefix() string { return s.prefix + dirManifest }
func (s *Store) manifestPartitionPrefix(topicID [16]byte, partition int32) string {
	return s.manifestPrefix() + topicPartitionPath(topicID, partition) + "/"
}
func (s *Store) manifestKey(topicID [16]byte, partition int32, baseOffset int64) string {
	return s.manifestPartitionPrefix(topicID, partition) + fmt.Sprintf("%020d", baseOffset)
}

// Multi-broker keys (see partitions.go and election.go):
//
//	partitions/<topic-id hex>/<partition>   PartitionState JSON, changed by CAS
//	controller/                             controller election (etcd concurrency.Election)
const (
	dirPartitions = "partitions/"
	dirController = "controller/"
)

func (s *Store) partitionsPrefix() string { return s.prefix + dirPartitions }
func (s *Store) topicPartitionsPrefix(topicID [16]byte) string {
	return s.partitionsPrefix() + fmt.Sprintf("%x/", topicID[:])
}
func (s *Store) partitionKey(topicID [16]byte, partition int32) string {
	return s.partitionsPrefix() + topicPartitionPath(topicID, partition)
}
func (s *Store) controllerPrefix() string { return s.prefix + dirController }

// parsePartitionKey is the inverse of partitionKey.
func (s *Store) parsePartitionKey(key string) (PartitionID, error) {
	rest, ok := strings.CutPrefix(key, s.partitionsPrefix())
	if !ok {
		return PartitionID{}, fmt.Errorf("metastore: partition key %q outside prefix", key)
	}
	idHex, pStr, ok := strings.Cut(rest, "/")
	raw, err1 := hex.DecodeString(idHex)
	p, err2 := strconv.ParseInt(pStr, 10, 32)
	if !ok || err1 != nil || err2 != nil || len(raw) != 16 || p < 0 {
		return PartitionID{}, fmt.Errorf("metastore: malformed partition key %q", key)
	}
	var id PartitionID
	copy(id.TopicID[:], raw)
	id.Partition = int32(p)
	return id, nil
}
