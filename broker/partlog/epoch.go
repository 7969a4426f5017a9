package partlog

import (
	"bufio"
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

const epochCheckpointName = "leader-epoch-checkpoint"

type epochEntry struct {
	epoch int32
	start int64 // first offset written in this epoch
}

// epochCache maps leader epochs to their first offset, ascending in both.
type epochCache []epochEntry

func (c epochCache) latest() int32 {
	if len(c) == 0 {
		return -1
	}
	return c[len(c)-1].epoch
}

// assign records that offset was written in epoch; it reports whether the
// cache changed.
func (c *epochCache) assign(epoch int32, offset int64) bool {
	if epoch < 0 {
		return false
	}
	if n := len(*c); n > 0 && epoch <= (*c)[n-1].epoch {
		return false
	}
	*c = append(*c, epochEntry{epoch: epoch, start: offset})
	return true
}

// truncateFromEnd drops entries starting at or after end.
func (c *epochCache) truncateFromEnd(end int64) bool {
	i := sort.Search(len(*c), func(i int) bool { return (*c)[i].start >= end })
	changed := i < len(*c)
	*c = (*c)[:i]
	return changed
}

// truncateFromStart drops entries wholly below start, keeping the newest of
// them moved up to start (like Kafka's LeaderEpochFileCache).
func (c *epochCache) truncateFromStart(start int64) bool {
	i := sort.Search(len(*c), func(i int) bool { return (*c)[i].start > start })
	if i == 0 {
		return false
	}
	keep := (*c)[i-1]
	changed := i > 1 || keep.start != start
	keep.start = start
	*c = append(epochCache{keep}, (*c)[i:]...)
	return changed
}

// endOffsetFor implements OffsetForLeaderEpoch for one requested epoch.
func (c epochCache) endOffsetFor(epoch int32, logEnd int64) (int32, int64) {
	if len(c) == 0 || epoch < 0 {
		return -1, -1
	}
	i := sort.Search(len(c), func(i int) bool { return c[i].epoch > epoch })
	if i == len(c) {
		if c[len(c)-1].epoch == epoch {
			return epoch, logEnd
		}
		// Newer than any epoch we know: Kafka answers UNDEFINED.
		return -1, -1
	}
	if i == 0 {
		// Older than anything we know: like Kafka, answer with the requested
		// epoch ending where our first known epoch starts.
		return epoch, c[0].start
	}
	return c[i-1].epoch, c[i].start
}

func (c epochCache) encode() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(c))
	for _, e := range c {
		fmt.Fprintf(&b, "%d %d\n", e.epoch, e.start)
	}
	return b.Bytes()
}

// decodeEpochCache parses the Kafka-style checkpoint (version, count, then
// "epoch offset" lines).
func decodeEpochCache(data []byte) (epochCache, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	var lines []string
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			lines = append(lines, t)
		}
	}
	if len(lines) < 2 || lines[0] != "0" {
		return nil, fmt.Errorf("bad epoch checkpoint header")
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return nil, fmt.Errorf("bad epoch checkpoint count %q", lines[1])
	}
	var c epochCache
	for _, ln := range lines[2:] {
		var e epochEntry
		if _, err := fmt.Sscanf(ln, "%d %d", &e.epoch, &e.start); err != nil {
			return nil, fmt.Errorf("bad epoch checkpoint line %q: %w", ln, err)
		}
		if m := len(c); m > 0 && (e.epoch <= c[m-1].epoch || e.start < c[m-1].start) {
			return nil, fmt.Errorf("epoch checkpoint not ascending at %q", ln)
		}
		c = append(c, e)
	}
	return c, nil
}

// persistEpochs writes the epoch cache atomically. Caller holds mu.
func (l *Log) persistEpochs() error {
	if err := writeFileAtomic(l.fs, l.dir, epochCheckpointName, l.epochs.encode()); err != nil {
		return fmt.Errorf("partlog: persist leader epochs: %w", err)
	}
	return nil
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch: the largest known epoch <=
// epoch and the first offset of the next higher epoch, or the log end when
// epoch is >= the latest epoch. (-1, -1) when the cache is empty or epoch < 0.
func (l *Log) EndOffsetForEpoch(epoch int32) (leaderEpoch int32, endOffset int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epochs.endOffsetFor(epoch, l.logEnd)
}
