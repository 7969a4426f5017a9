package cli

import (
	"net"
	"strconv"
	"testing"
)

func TestClusterDescribe(t *testing.T) {
	c, b := startCLI(t)
	c.ok("", "topic", "create", "a", "--partitions", "2")
	host, port, err := net.SplitHostPort(b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	out := c.ok("", "cluster", "describe")
	mustContain(t, "cluster describe", out, "Cluster ID: ", "Controller: 1", "Topics: 1", "Partitions: 2", "BROKER", host, port)

	var cl struct {
		ClusterID  string `json:"cluster_id"`
		Controller int32  `json:"controller"`
		Brokers    []struct {
			ID   int32  `json:"id"`
			Host string `json:"host"`
			Port int32  `json:"port"`
		} `json:"brokers"`
		Topics     int `json:"topics"`
		Partitions int `json:"partitions"`
	}
	c.okJSON(&cl, "", "cluster", "describe")
	if cl.ClusterID == "" || cl.Controller != 1 || len(cl.Brokers) != 1 || cl.Topics != 1 || cl.Partitions != 2 {
		t.Fatalf("cluster describe json: %+v", cl)
	}
	if br := cl.Brokers[0]; br.ID != 1 || br.Host != host || strconv.Itoa(int(br.Port)) != port {
		t.Fatalf("broker %+v, want 1 at %s", br, b.Addr)
	}
	c.fails(2, "unknown subcommand", "cluster", "explode")
	c.fails(2, "missing subcommand", "cluster")
}
