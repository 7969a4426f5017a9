package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeCluster: v0-2
//
// Behavior:
//   - Cluster id from etcd, this node as controller, and the brokers
//     (endpoint type 1, brokers; controllers are etcd and not listed).
//
// Version notes:
//   - v1: endpoint type (KIP-919); v2: include fenced brokers
func init() { register(60, 0, 2, handleDescribeCluster) }

func handleDescribeCluster(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	if req.Version >= 1 && req.EndpointType != 1 {
		resp.ErrorCode = 120 // UNSUPPORTED_ENDPOINT_TYPE
		msg := "only broker endpoints (type 1) are served"
		resp.ErrorMessage = &msg
		return now(resp)
	}
	resp.ClusterID = b.clusterID
	resp.ControllerID = b.controllerID()
	resp.ClusterAuthorizedOperations = -2147483648
	for _, mb := range b.metadataBrokers() {
		br := kmsg.NewDescribeClusterResponseBroker()
		br.NodeID, br.Host, br.Port, br.Rack = mb.NodeID, mb.Host, mb.Port, mb.Rack
		resp.Brokers = append(resp.Brokers, br)
	}
	return now(resp)
}
