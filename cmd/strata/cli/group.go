package cli

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func groupArgs(flagGroup string, pos []string) []string {
	var gs []string
	if flagGroup != "" {
		gs = append(gs, flagGroup)
	}
	return append(gs, pos...)
}

func (e *env) groupList(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "group list", "[--state S]")
	var states multiFlag
	fs.Var(&states, "state", "only groups in this state (repeatable): Empty, Stable, PreparingRebalance, ...")
	if _, err := parse(fs, c, args); err != nil {
		return err
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	lg, err := adm.ListGroups(ctx, states...)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	type row struct {
		Group        string `json:"group"`
		State        string `json:"state"`
		ProtocolType string `json:"protocol_type"`
		Coordinator  int32  `json:"coordinator"`
	}
	rows := []row{}
	for _, g := range lg.Sorted() {
		rows = append(rows, row{g.Group, g.State, g.ProtocolType, g.Coordinator})
	}
	if c.output == "json" {
		return writeJSON(e.stdout, rows)
	}
	t := newTable(e.stdout, "GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR")
	for _, r := range rows {
		t.row(r.Group, r.State, r.ProtocolType, r.Coordinator)
	}
	return t.flush()
}

type groupPartitionLag struct {
	Topic         string `json:"topic"`
	Partition     int32  `json:"partition"`
	CurrentOffset int64  `json:"current_offset"`
	LogEndOffset  int64  `json:"log_end_offset"`
	Lag           int64  `json:"lag"`
	MemberID      string `json:"member_id,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	Host          string `json:"host,omitempty"`
	Error         string `json:"error,omitempty"`
}

type groupDescription struct {
	Group        string              `json:"group"`
	State        string              `json:"state"`
	ProtocolType string              `json:"protocol_type"`
	Protocol     string              `json:"protocol"`
	Coordinator  int32               `json:"coordinator"`
	Members      int                 `json:"members"`
	TotalLag     int64               `json:"total_lag"`
	Partitions   []groupPartitionLag `json:"partitions"`
}

// errGroupNotFound is returned for a group with no members and no offsets.
var errGroupNotFound = errors.New("group does not exist")

func (e *env) groupDescribe(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "group describe", "GROUP...")
	group := fs.String("group", "", "group id (or give it as an argument)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	groups := groupArgs(*group, pos)
	if len(groups) == 0 {
		return usagef("group describe: name a group")
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	lags, err := adm.Lag(ctx, groups...)
	if err != nil {
		return fmt.Errorf("describe groups: %w", err)
	}
	var out []groupDescription
	for _, name := range groups {
		l, ok := lags[name]
		if !ok {
			return fmt.Errorf("group %q: missing from response", name)
		}
		if l.DescribeErr != nil {
			return fmt.Errorf("group %q: %w", name, l.DescribeErr)
		}
		if l.FetchErr != nil {
			return fmt.Errorf("group %q: fetch offsets: %w", name, l.FetchErr)
		}
		if (l.State == "Dead" || l.State == "") && len(l.Members) == 0 && l.Lag.IsEmpty() {
			return fmt.Errorf("group %q: %w", name, errGroupNotFound)
		}
		d := groupDescription{Group: name, State: l.State, ProtocolType: l.ProtocolType, Protocol: l.Protocol,
			Coordinator: l.Coordinator.NodeID, Members: len(l.Members), Partitions: []groupPartitionLag{}}
		for _, m := range l.Lag.Sorted() {
			p := groupPartitionLag{Topic: m.Topic, Partition: m.Partition, CurrentOffset: m.Commit.At,
				LogEndOffset: m.End.Offset, Lag: m.Lag}
			if m.Member != nil {
				p.MemberID, p.ClientID, p.Host = m.Member.MemberID, m.Member.ClientID, m.Member.ClientHost
			}
			if m.Err != nil {
				p.Error = m.Err.Error()
			}
			if m.Lag > 0 {
				d.TotalLag += m.Lag
			}
			d.Partitions = append(d.Partitions, p)
		}
		out = append(out, d)
	}
	if c.output == "json" {
		return writeJSON(e.stdout, out)
	}
	for i, d := range out {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		fmt.Fprintf(e.stdout, "Group: %s\tState: %s\tProtocol: %s/%s\tCoordinator: %d\tMembers: %d\tTotal lag: %d\n",
			d.Group, d.State, d.ProtocolType, d.Protocol, d.Coordinator, d.Members, d.TotalLag)
		t := newTable(e.stdout, "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER-ID", "CLIENT-ID", "HOST")
		for _, p := range d.Partitions {
			t.row(p.Topic, p.Partition, dash(p.CurrentOffset), dash(p.LogEndOffset), dash(p.Lag), orDash(p.MemberID), orDash(p.ClientID), orDash(p.Host))
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (e *env) groupDelete(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "group delete", "GROUP...")
	group := fs.String("group", "", "group id (or give it as an argument)")
	pos, err := parse(fs, c, args)
	if err != nil {
		return err
	}
	groups := groupArgs(*group, pos)
	if len(groups) == 0 {
		return usagef("group delete: name a group")
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	resps, err := adm.DeleteGroups(ctx, groups...)
	if err != nil {
		return fmt.Errorf("delete groups: %w", err)
	}
	var results []deleteResult
	var errs []error
	for _, g := range groups {
		r, ok := resps[g]
		res := deleteResult{Name: g}
		switch {
		case !ok:
			res.Error = "missing from response"
		case r.Err == nil:
			res.Deleted = true
		case errors.Is(r.Err, kerr.GroupIDNotFound):
			res.Error = "group does not exist"
		case errors.Is(r.Err, kerr.NonEmptyGroup):
			res.Error = "group has active members; stop its consumers first"
		default:
			res.Error = kafkaErr(r.Err, r.ErrMessage).Error()
		}
		if !res.Deleted {
			errs = append(errs, fmt.Errorf("delete group %q: %s", g, res.Error))
		}
		results = append(results, res)
	}
	if err := e.printDeletes(c, "group", results); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// sortedOffsets returns offsets ordered by topic and partition.
func sortedOffsets(os kadm.Offsets) []kadm.Offset {
	out := os.Sorted()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	return out
}
