package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// etcdStatus is the part of etcd's Maintenance.Status answer (over the
// gRPC JSON gateway, /v3/maintenance/status) that Leader needs. Ids are
// uint64s, which the gateway renders as strings.
type etcdStatus struct {
	Header struct {
		MemberID string `json:"member_id"`
	} `json:"header"`
	Leader string `json:"leader"`
}

func (c *EtcdCluster) status(ctx context.Context, i int) (etcdStatus, error) {
	var st etcdStatus
	m, err := c.member(i)
	if err != nil {
		return st, err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.clientURL+"/v3/maintenance/status", bytes.NewReader([]byte("{}")))
	if err != nil {
		return st, fmt.Errorf("harness: etcd status request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("harness: etcd member %d status: %w", i, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("harness: etcd member %d status: %s", i, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("harness: decode etcd member %d status: %w", i, err)
	}
	return st, nil
}

// Leader is the index of the member that currently leads the etcd cluster
// (the raft leader), as the running members report it.
func (c *EtcdCluster) Leader(ctx context.Context) (int, error) {
	ids := make([]string, len(c.members))
	leader := ""
	var lastErr error
	for i := range c.members {
		if !c.Running(i) {
			continue
		}
		st, err := c.status(ctx, i)
		if err != nil {
			lastErr = err
			continue
		}
		ids[i] = st.Header.MemberID
		if st.Leader != "" && st.Leader != "0" {
			leader = st.Leader
		}
	}
	if leader == "" {
		return -1, fmt.Errorf("harness: no etcd member reports a leader (last error: %v)", lastErr)
	}
	for i, id := range ids {
		if strings.EqualFold(id, leader) {
			return i, nil
		}
	}
	return -1, fmt.Errorf("harness: etcd leader %s is not a running member (ids %v)", leader, ids)
}
