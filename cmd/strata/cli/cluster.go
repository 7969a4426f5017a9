package cli

import (
	"context"
	"fmt"
)

func (e *env) clusterDescribe(ctx context.Context, args []string) error {
	fs, c := newFlagSet(e, "cluster describe", "")
	if _, err := parse(fs, c, args); err != nil {
		return err
	}
	adm, ctx, done, err := c.newAdmin(ctx)
	if err != nil {
		return err
	}
	defer done()
	md, err := adm.Metadata(ctx)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	type broker struct {
		ID   int32  `json:"id"`
		Host string `json:"host"`
		Port int32  `json:"port"`
		Rack string `json:"rack,omitempty"`
	}
	type cluster struct {
		ClusterID  string   `json:"cluster_id"`
		Controller int32    `json:"controller"`
		Brokers    []broker `json:"brokers"`
		Topics     int      `json:"topics"`
		Partitions int      `json:"partitions"`
	}
	out := cluster{ClusterID: md.Cluster, Controller: md.Controller, Brokers: []broker{}, Topics: len(md.Topics)}
	for _, t := range md.Topics {
		out.Partitions += len(t.Partitions)
	}
	for _, b := range md.Brokers {
		r := ""
		if b.Rack != nil {
			r = *b.Rack
		}
		out.Brokers = append(out.Brokers, broker{ID: b.NodeID, Host: b.Host, Port: b.Port, Rack: r})
	}
	if c.output == "json" {
		return writeJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "Cluster ID: %s\nController: %d\nTopics: %d\nPartitions: %d\n\n", out.ClusterID, out.Controller, out.Topics, out.Partitions)
	t := newTable(e.stdout, "BROKER", "HOST", "PORT", "RACK")
	for _, b := range out.Brokers {
		t.row(b.ID, b.Host, b.Port, orDash(b.Rack))
	}
	return t.flush()
}
