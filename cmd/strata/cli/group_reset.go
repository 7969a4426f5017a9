package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// resetTarget names the partitions whose offsets are reset.
type resetTarget struct {
	topic      string
	partitions []int32 // nil: all partitions
}

func parseResetTopic(s string) (resetTarget, error) {
	name, parts, ok := strings.Cut(s, ":")
	if name == "" {
		return resetTarget{}, usagef("--topic %q: empty topic name", s)
	}
	rt := resetTarget{topic: name}
	if !ok {
		return rt, nil
	}
	for _, p := range strings.Split(parts, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil || n < 0 {
			return resetTarget{}, usagef("--topic %q: bad partition %q", s, p)
		}
		rt.partitions = append(rt.partitions, int32(n))
	}
	return rt, nil
}

// parseDatetime accepts RFC 3339 and Kafka's yyyy-MM-ddTHH:mm:ss[.SSS] (UTC).
func parseDatetime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usagef("--to-datetime %q: want RFC 3339, e.g. 2024-05-01T12:00:00Z", s)
}

type resetRow struct {
	Group         string `json:"group"`
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset int64  `json:"current_offset"`
	NewOffset     int64  `json:"new_offset"`
}

func (e *env) groupResetOffsets(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "group reset-offsets",
		"--group G (--topic T[:P,P]... | --all-topics) (--to-earliest | --to-latest | --to-offset N | --to-datetime T | --shift-by N) [--execute]")
	group := fs.String("group", "", "group id (or give it as an argument)")
	var topicFlags multiFlag
	fs.Var(&topicFlags, "topic", "topic, or topic:p1,p2 for some partitions (repeatable)")
	allTopics := fs.Bool("all-topics", false, "every topic the group has committed offsets for")
	toEarliest := fs.Bool("to-earliest", false, "reset to the log start offset")
	toLatest := fs.Bool("to-latest", false, "reset to the log end offset")
	toOffset := fs.Int64("to-offset", -1, "reset to this offset (clamped to the log)")
	toDatetime := fs.String("to-datetime", "", "reset to the first offset at or after this time (RFC 3339)")
	shiftBy := fs.Int64("shift-by", 0, "move the committed offset by N (may be negative)")
	execute := fs.Bool("execute", false, "commit the new offsets (default: show them only)")
	dryRun := fs.Bool("dry-run", false, "show the new offsets without committing (the default)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	groups := groupArgs(*group, pos)
	if len(groups) != 1 {
		return usagef("group reset-offsets: name exactly one group")
	}
	g := groups[0]
	nStrategies := 0
	for _, set := range []bool{*toEarliest, *toLatest, *toOffset >= 0, *toDatetime != "", *shiftBy != 0} {
		if set {
			nStrategies++
		}
	}
	if nStrategies != 1 {
		return usagef("group reset-offsets: give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by")
	}
	if (len(topicFlags) > 0) == *allTopics {
		return usagef("group reset-offsets: give --topic or --all-topics")
	}
	if *execute && *dryRun {
		return usagef("group reset-offsets: --execute and --dry-run exclude each other")
	}
	var at time.Time
	if *toDatetime != "" {
		if at, err = parseDatetime(*toDatetime); err != nil {
			return err
		}
	}
	var targets []resetTarget
	for _, tf := range topicFlags {
		rt, err := parseResetTopic(tf)
		if err != nil {
			return err
		}
		targets = append(targets, rt)
	}

	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()

	dg, err := adm.DescribeGroups(ctx, g)
	if err != nil {
		return fmt.Errorf("describe group: %w", err)
	}
	if d, ok := dg[g]; ok {
		if d.Err != nil {
			return fmt.Errorf("group %q: %w", g, kafkaErr(d.Err, d.ErrMessage))
		}
		if d.State != "Empty" && d.State != "Dead" && d.State != "" {
			return fmt.Errorf("group %q is %s with %d member(s); offsets can be reset only when it has no members (stop its consumers)", g, d.State, len(d.Members))
		}
	}
	committed, err := adm.FetchOffsets(ctx, g)
	if err != nil {
		return fmt.Errorf("fetch offsets: %w", err)
	}
	if err := committed.Error(); err != nil {
		return fmt.Errorf("fetch offsets: %w", err)
	}

	// The partitions to reset.
	want := map[string]map[int32]bool{}
	if *allTopics {
		committed.Each(func(o kadm.OffsetResponse) {
			if want[o.Topic] == nil {
				want[o.Topic] = map[int32]bool{}
			}
			want[o.Topic][o.Partition] = true
		})
		if len(want) == 0 {
			return fmt.Errorf("group %q has no committed offsets; name topics with --topic", g)
		}
	}
	var topics []string
	for _, rt := range targets {
		topics = append(topics, rt.topic)
	}
	for t := range want {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	td, err := requireTopics(ctx, adm, topics...)
	if err != nil {
		return err
	}
	for _, rt := range targets {
		if want[rt.topic] == nil {
			want[rt.topic] = map[int32]bool{}
		}
		exists := map[int32]bool{}
		for _, p := range td[rt.topic].Partitions.Numbers() {
			exists[p] = true
		}
		if rt.partitions == nil {
			for p := range exists {
				want[rt.topic][p] = true
			}
		}
		for _, p := range rt.partitions {
			if !exists[p] {
				return fmt.Errorf("topic %q has no partition %d", rt.topic, p)
			}
			want[rt.topic][p] = true
		}
	}

	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list start offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return fmt.Errorf("list end offsets: %w", err)
	}
	var byTime kadm.ListedOffsets
	if !at.IsZero() {
		if byTime, err = adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...); err != nil {
			return fmt.Errorf("list offsets by time: %w", err)
		}
	}

	var rows []resetRow
	var newOffsets kadm.Offsets
	for _, t := range topics {
		parts := make([]int32, 0, len(want[t]))
		for p := range want[t] {
			parts = append(parts, p)
		}
		sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
		for _, p := range parts {
			so, ok1 := starts.Lookup(t, p)
			eo, ok2 := ends.Lookup(t, p)
			if !ok1 || !ok2 || so.Err != nil || eo.Err != nil {
				return fmt.Errorf("%s[%d]: cannot list offsets: %v %v", t, p, so.Err, eo.Err)
			}
			cur := int64(-1)
			if o, ok := committed.Lookup(t, p); ok && o.Err == nil {
				cur = o.At
			}
			var n int64
			switch {
			case *toEarliest:
				n = so.Offset
			case *toLatest:
				n = eo.Offset
			case *toOffset >= 0:
				n = *toOffset
			case !at.IsZero():
				n = eo.Offset
				if bo, ok := byTime.Lookup(t, p); ok && bo.Err == nil && bo.Offset >= 0 {
					n = bo.Offset
				}
			default: // shift-by
				base := cur
				if base < 0 {
					base = eo.Offset
				}
				n = base + *shiftBy
			}
			n = max(so.Offset, min(n, eo.Offset))
			rows = append(rows, resetRow{Group: g, Topic: t, Partition: p, CurrentOffset: cur, NewOffset: n})
			newOffsets.AddOffset(t, p, n, -1)
		}
	}

	if *execute {
		resps, err := adm.CommitOffsets(ctx, g, newOffsets)
		if err != nil {
			return fmt.Errorf("commit offsets: %w", err)
		}
		if err := resps.Error(); err != nil {
			return fmt.Errorf("commit offsets: %w", err)
		}
	}
	if c.output == "json" {
		return writeJSON(e.stdout, map[string]any{"executed": *execute, "offsets": rows})
	}
	t := newTable(e.stdout, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET")
	for _, r := range rows {
		t.row(r.Group, r.Topic, r.Partition, dash(r.CurrentOffset), r.NewOffset)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if !*execute {
		fmt.Fprintln(e.stderr, "Dry run: offsets not committed; add --execute to commit them.")
	}
	return nil
}
