package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// reassignment is one partition's reassignment in progress, as listed.
type reassignment struct {
	Topic     string  `json:"topic"`
	Partition int32   `json:"partition"`
	Replicas  []int32 `json:"replicas"`
	Adding    []int32 `json:"adding"`
	Removing  []int32 `json:"removing"`
}

func parseBrokerList(s string) ([]int32, error) {
	var out []int32
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("broker id %q: %w", f, err)
		}
		out = append(out, int32(n))
	}
	return out, nil
}

// clusterReassign: strata cluster reassign --topic T --partition N --replicas 1,2,3 | --cancel
func (e *env) clusterReassign(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "cluster reassign", "--topic T --partition N (--replicas 1,2,3 | --cancel) [--wait]")
	topic := fs.String("topic", "", "topic")
	partition := fs.Int("partition", -1, "partition")
	replicas := fs.String("replicas", "", "comma-separated broker ids, the first the preferred leader")
	cancel := fs.Bool("cancel", false, "cancel the reassignment in progress")
	wait := fs.Bool("wait", false, "wait until the reassignment completes")
	waitTimeout := fs.Duration("wait-timeout", 30*time.Minute, "how long --wait waits")
	if _, err := parse(fs, c, args); err != nil {
		return err
	}
	if *topic == "" || *partition < 0 {
		return usagef("cluster reassign: --topic and --partition are required")
	}
	if (*replicas == "") == !*cancel {
		return usagef("cluster reassign: give exactly one of --replicas and --cancel")
	}
	var target []int32
	if !*cancel {
		var err error
		if target, err = parseBrokerList(*replicas); err != nil || len(target) == 0 {
			return usagef("cluster reassign: bad --replicas %q", *replicas)
		}
	}
	a := assignment{topic: *topic, partition: int32(*partition), replicas: target}
	if err := alterAssignments(ctx, c, []assignment{a}); err != nil {
		return err
	}
	if *cancel {
		fmt.Fprintf(e.stdout, "cancelled reassignment of %s/%d\n", a.topic, a.partition)
		return nil
	}
	fmt.Fprintf(e.stdout, "reassigning %s/%d to [%s]\n", a.topic, a.partition, joinInt32(target))
	if *wait {
		return e.waitAssignments(ctx, c, []assignment{a}, *waitTimeout)
	}
	return nil
}

// alterAssignments sends the reassignments (nil replicas: cancel) and
// returns the first partition error.
func alterAssignments(ctx context.Context, c *common, as []assignment) error {
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	var req kadm.AlterPartitionAssignmentsReq
	for _, a := range as {
		req.Assign(a.topic, a.partition, a.replicas)
	}
	resps, err := adm.AlterPartitionAssignments(ctx, req)
	if err != nil {
		return fmt.Errorf("alter partition reassignments: %w", err)
	}
	var errs []error
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("%s/%d: %w", r.Topic, r.Partition, kafkaErr(r.Err, r.ErrMessage)))
		}
	}
	return errors.Join(errs...)
}

// clusterReassignments lists the reassignments in progress.
func (e *env) clusterReassignments(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "cluster reassignments", "")
	if _, err := parse(fs, c, args); err != nil {
		return err
	}
	rs, err := listReassignments(ctx, c)
	if err != nil {
		return err
	}
	if c.output == "json" {
		return writeJSON(e.stdout, rs)
	}
	t := newTable(e.stdout, "TOPIC", "PARTITION", "REPLICAS", "ADDING", "REMOVING")
	for _, r := range rs {
		t.row(r.Topic, r.Partition, joinInt32(r.Replicas), joinInt32(r.Adding), joinInt32(r.Removing))
	}
	return t.flush()
}

// listReassignments asks for every reassignment in progress (a request with
// null topics, which kadm does not send), sorted by topic and partition.
func listReassignments(ctx context.Context, c *common) ([]reassignment, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	cl, err := c.newClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = int32(c.timeout / time.Millisecond)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list partition reassignments: %w", err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		msg := ""
		if resp.ErrorMessage != nil {
			msg = *resp.ErrorMessage
		}
		return nil, fmt.Errorf("list partition reassignments: %w", kafkaErr(err, msg))
	}
	out := []reassignment{}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out = append(out, reassignment{Topic: t.Topic, Partition: p.Partition, Replicas: p.Replicas,
				Adding: nonNil(p.AddingReplicas), Removing: nonNil(p.RemovingReplicas)})
		}
	}
	slices.SortFunc(out, func(a, b reassignment) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	return out, nil
}

func nonNil(xs []int32) []int32 {
	if xs == nil {
		return []int32{}
	}
	return xs
}

// clusterState reads the live brokers and every partition's replicas.
func clusterState(ctx context.Context, c *common) ([]node, []assignment, error) {
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer done()
	md, err := adm.Metadata(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("metadata: %w", err)
	}
	var nodes []node
	for _, b := range md.Brokers {
		n := node{id: b.NodeID}
		if b.Rack != nil {
			n.rack = *b.Rack
		}
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, func(a, b node) int { return int(a.id - b.id) })
	var parts []assignment
	for _, t := range md.Topics.Sorted() {
		if t.Err != nil {
			return nil, nil, fmt.Errorf("metadata of topic %s: %w", t.Topic, t.Err)
		}
		for _, p := range t.Partitions.Sorted() {
			parts = append(parts, assignment{topic: t.Topic, partition: p.Partition, replicas: slices.Clone(p.Replicas)})
		}
	}
	return nodes, parts, nil
}

// waitAssignments polls Metadata until every partition in as has exactly
// the wanted replicas, printing progress when it changes.
func (e *env) waitAssignments(ctx context.Context, c *common, as []assignment, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := -1
	for {
		_, parts, err := clusterState(ctx, c)
		if err == nil {
			now := map[string][]int32{}
			for _, p := range parts {
				now[fmt.Sprintf("%s/%d", p.topic, p.partition)] = p.replicas
			}
			doneN := 0
			var pending []string
			for _, a := range as {
				if slices.Equal(now[fmt.Sprintf("%s/%d", a.topic, a.partition)], a.replicas) {
					doneN++
				} else {
					pending = append(pending, fmt.Sprintf("%s/%d", a.topic, a.partition))
				}
			}
			if doneN != last {
				fmt.Fprintf(e.stdout, "progress: %d/%d partitions reassigned\n", doneN, len(as))
				last = doneN
			}
			if doneN == len(as) {
				return nil
			}
			if ctx.Err() != nil {
				return fmt.Errorf("reassignments not complete after %s: %s", timeout, strings.Join(pending, ", "))
			}
		} else if ctx.Err() != nil {
			return fmt.Errorf("waiting for reassignments: %w", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// clusterDrain moves every replica off one broker and waits until done.
func (e *env) clusterDrain(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "cluster drain", "--broker N [--dry-run] [--wait-timeout 30m]")
	id := fs.Int("broker", -1, "broker id to drain")
	dry := fs.Bool("dry-run", false, "print the plan, change nothing")
	waitTimeout := fs.Duration("wait-timeout", 30*time.Minute, "how long to wait for the moves")
	if _, err := parse(fs, c, args); err != nil {
		return err
	}
	if *id < 0 {
		return usagef("cluster drain: --broker is required")
	}
	nodes, parts, err := clusterState(ctx, c)
	if err != nil {
		return err
	}
	plan, err := planDrain(nodes, parts, int32(*id))
	if err != nil {
		return err
	}
	return e.applyPlan(ctx, c, fmt.Sprintf("drain broker %d", *id), plan, *dry, *waitTimeout)
}

// clusterRebalance spreads replicas evenly over the live brokers.
func (e *env) clusterRebalance(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "cluster rebalance", "[--dry-run] [--wait-timeout 30m]")
	dry := fs.Bool("dry-run", false, "print the plan, change nothing")
	waitTimeout := fs.Duration("wait-timeout", 30*time.Minute, "how long to wait for the moves")
	if _, err := parse(fs, c, args); err != nil {
		return err
	}
	nodes, parts, err := clusterState(ctx, c)
	if err != nil {
		return err
	}
	return e.applyPlan(ctx, c, "rebalance", planRebalance(nodes, parts), *dry, *waitTimeout)
}

// applyPlan prints the moves, submits them (unless dry) and waits.
func (e *env) applyPlan(ctx context.Context, c *common, what string, plan []assignment, dry bool, waitTimeout time.Duration) error {
	if len(plan) == 0 {
		fmt.Fprintf(e.stdout, "%s: nothing to move\n", what)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: %d partitions to move\n", what, len(plan))
	for _, a := range plan {
		fmt.Fprintf(e.stdout, "  %s/%d -> [%s]\n", a.topic, a.partition, joinInt32(a.replicas))
	}
	if dry {
		return nil
	}
	if err := alterAssignments(ctx, c, plan); err != nil {
		return err
	}
	if err := e.waitAssignments(ctx, c, plan, waitTimeout); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: done\n", what)
	return nil
}
