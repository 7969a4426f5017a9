package badinput

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAdminUnknownAndInvalid: admin requests naming topics that do not
// exist, shrinking partitions, or repeating a topic in one request.
func TestAdminUnknownAndInvalid(t *testing.T) {
	e := shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const topic = "admin-bad"
	e.createTopic(t, topic, 2, nil)

	// CreateTopics with the same name twice in one request: Kafka answers
	// INVALID_REQUEST for that name and creates nothing.
	creq := createTopicsReq("admin-twice", 1, 1, nil)
	creq.Topics = append(creq.Topics, creq.Topics[0])
	cresp, err := creq.RequestWith(ctx, e.cl)
	if err != nil {
		t.Fatal(err)
	}
	if len(cresp.Topics) == 0 {
		t.Fatal("CreateTopics with a repeated name: empty response")
	}
	for _, rt := range cresp.Topics {
		wantCode(t, "CreateTopics repeated name", rt.ErrorCode, kerr.InvalidRequest)
	}
	if e.topicExists(t, "admin-twice") {
		t.Error("a topic named twice in one CreateTopics was created")
	}

	// CreatePartitions: the count must grow.
	cp := func(name string, count int32) int16 {
		req := kmsg.NewPtrCreatePartitionsRequest()
		req.TimeoutMillis = 10000
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic, rt.Count = name, count
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, e.cl)
		if err != nil || len(resp.Topics) != 1 {
			t.Fatalf("CreatePartitions: %v", err)
		}
		return resp.Topics[0].ErrorCode
	}
	wantCode(t, "CreatePartitions to fewer", cp(topic, 1), kerr.InvalidPartitions)
	wantCode(t, "CreatePartitions to the same count", cp(topic, 2), kerr.InvalidPartitions)
	wantCode(t, "CreatePartitions to 0", cp(topic, 0), kerr.InvalidPartitions)
	wantCode(t, "CreatePartitions unknown topic", cp("no-such-topic", 3), kerr.UnknownTopicOrPartition)
	if _, end := offsets(t, e.b.Addr, topic, 1); end != 0 {
		t.Errorf("%s/1 end %d", topic, end)
	}

	// DeleteTopics of a topic that does not exist.
	dreq := kmsg.NewPtrDeleteTopicsRequest()
	dreq.TimeoutMillis = 10000
	dt := kmsg.NewDeleteTopicsRequestTopic()
	dt.Topic = kmsg.StringPtr("no-such-topic")
	dreq.Topics = append(dreq.Topics, dt)
	dreq.TopicNames = []string{"no-such-topic"}
	dresp, err := dreq.RequestWith(ctx, e.cl)
	if err != nil || len(dresp.Topics) != 1 {
		t.Fatalf("DeleteTopics: %v %+v", err, dresp)
	}
	wantCode(t, "DeleteTopics unknown topic", dresp.Topics[0].ErrorCode, kerr.UnknownTopicOrPartition)

	// DescribeConfigs / AlterConfigs of a topic that does not exist.
	descReq := kmsg.NewPtrDescribeConfigsRequest()
	dr := kmsg.NewDescribeConfigsRequestResource()
	dr.ResourceType, dr.ResourceName = kmsg.ConfigResourceTypeTopic, "no-such-topic"
	descReq.Resources = append(descReq.Resources, dr)
	descResp, err := descReq.RequestWith(ctx, e.cl)
	if err != nil || len(descResp.Resources) != 1 {
		t.Fatalf("DescribeConfigs: %v", err)
	}
	wantCode(t, "DescribeConfigs unknown topic", descResp.Resources[0].ErrorCode, kerr.UnknownTopicOrPartition)
	ireq := kmsg.NewPtrIncrementalAlterConfigsRequest()
	ir := kmsg.NewIncrementalAlterConfigsRequestResource()
	ir.ResourceType, ir.ResourceName = kmsg.ConfigResourceTypeTopic, "no-such-topic"
	ic := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	ic.Name, ic.Op, ic.Value = "retention.ms", kmsg.IncrementalAlterConfigOpSet, kmsg.StringPtr("1000")
	ir.Configs = append(ir.Configs, ic)
	ireq.Resources = append(ireq.Resources, ir)
	iresp, err := ireq.RequestWith(ctx, e.cl)
	if err != nil || len(iresp.Resources) != 1 {
		t.Fatalf("IncrementalAlterConfigs: %v", err)
	}
	wantCode(t, "IncrementalAlterConfigs unknown topic", iresp.Resources[0].ErrorCode, kerr.UnknownTopicOrPartition)

	// ApiVersions v3 with a client software name outside Kafka's pattern.
	c := dialRaw(t, e.b.Addr)
	av := kmsg.NewPtrApiVersionsRequest()
	av.SetVersion(3)
	av.ClientSoftwareName, av.ClientSoftwareVersion = "bad name!", "1.0"
	wantCode(t, "ApiVersions bad software name", c.roundTrip(t, av).(*kmsg.ApiVersionsResponse).ErrorCode, kerr.InvalidRequest)
	av.ClientSoftwareName, av.ClientSoftwareVersion = "good-name", "-1.0"
	wantCode(t, "ApiVersions bad software version", c.roundTrip(t, av).(*kmsg.ApiVersionsResponse).ErrorCode, kerr.InvalidRequest)
	e.afterCase(t)
}
