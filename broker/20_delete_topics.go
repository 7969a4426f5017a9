package broker

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/strata-io/strata/metastore"
)

// DeleteTopics: v1-6
//
// Behavior:
//   - Removes the topic from etcd first, then its local logs and the
//     committed offsets of every group for it. Later produce and fetch get
//     UNKNOWN_TOPIC_OR_PARTITION.
//   - Unknown names get UNKNOWN_TOPIC_OR_PARTITION, unknown ids (v6+)
//     UNKNOWN_TOPIC_ID.
//
// Version notes:
//   - v1: throttle; v4: flexible; v5: error messages; v6: topics by id
func init() { register(20, 1, 6, handleDeleteTopics) }

func handleDeleteTopics(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type target struct {
		name *string
		id   [16]byte
	}
	var targets []target
	if req.Version >= 6 {
		for _, t := range req.Topics {
			targets = append(targets, target{t.Topic, t.TopicID})
		}
	} else {
		for i := range req.TopicNames {
			targets = append(targets, target{name: &req.TopicNames[i]})
		}
	}
	for _, tg := range targets {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = tg.name, tg.id
		var t *topic
		missing := kerr.UnknownTopicOrPartition.Code
		if tg.name != nil && *tg.name != "" {
			t = b.topicByName(*tg.name)
		} else {
			t = b.topicByID(tg.id)
			missing = kerr.UnknownTopicID.Code
		}
		if t == nil {
			st.ErrorCode = missing
		} else {
			name := t.name
			st.Topic, st.TopicID = &name, t.id
			if err := b.deleteTopic(c.ctx, name); err != nil {
				if errors.Is(err, metastore.ErrNotFound) {
					st.ErrorCode = kerr.UnknownTopicOrPartition.Code
				} else {
					b.log.Error("delete topic", "topic", name, "err", err)
					st.ErrorCode = adminErrorCode(err)
				}
			}
		}
		if st.ErrorCode != 0 {
			msg := kerr.ErrorForCode(st.ErrorCode).Error()
			st.ErrorMessage = &msg
		}
		resp.Topics = append(resp.Topics, st)
	}
	return now(resp)
}
