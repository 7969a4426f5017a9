package wire

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// frameOf returns req's frame (without the size prefix) as a client sends it.
func frameOf(req kmsg.Request, corr int32, clientID *string) []byte {
	var f *kmsg.RequestFormatter
	if clientID != nil {
		f = kmsg.NewRequestFormatter(kmsg.FormatterClientID(*clientID))
	} else {
		f = kmsg.NewRequestFormatter()
	}
	return f.AppendRequest(nil, req, corr)[4:]
}

func parse(t *testing.T, frame []byte) (Header, kmsg.Request) {
	t.Helper()
	h, err := ParseHeaderPrefix(frame)
	if err != nil {
		t.Fatalf("ParseHeaderPrefix: %v", err)
	}
	req := kmsg.RequestForKey(h.Key)
	if req == nil {
		t.Fatalf("unknown key %d", h.Key)
	}
	if err := ParseRequest(frame, &h, req); err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	return h, req
}

func TestParseHeaderPrefix(t *testing.T) {
	frame := []byte{0, 3, 0, 9, 0x12, 0x34, 0x56, 0x78}
	h, err := ParseHeaderPrefix(frame)
	if err != nil {
		t.Fatal(err)
	}
	if h.Key != 3 || h.Version != 9 || h.CorrelationID != 0x12345678 {
		t.Fatalf("header = %+v", h)
	}
	for n := 0; n < 8; n++ {
		if _, err := ParseHeaderPrefix(frame[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%d-byte frame: err = %v, want ErrMalformed", n, err)
		}
	}
}

func TestParseRequestHeaderV1(t *testing.T) {
	// Metadata v4 is not flexible: header v1 (client id, no tags).
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(4)
	topic := "orders"
	req.Topics = []kmsg.MetadataRequestTopic{{Topic: &topic}}
	req.AllowAutoTopicCreation = true
	id := "my-client"
	h, got := parse(t, frameOf(req, 42, &id))
	if h.Key != 3 || h.Version != 4 || h.CorrelationID != 42 || h.ClientID != "my-client" {
		t.Fatalf("header = %+v", h)
	}
	m := got.(*kmsg.MetadataRequest)
	if m.GetVersion() != 4 || len(m.Topics) != 1 || *m.Topics[0].Topic != "orders" || !m.AllowAutoTopicCreation {
		t.Fatalf("body = %+v", m)
	}
}

func TestParseRequestFlexibleHeaderV2WithTags(t *testing.T) {
	// Metadata v12 is flexible: header v2. Build the header by hand with
	// two tagged fields that must be skipped.
	body := kmsg.NewPtrMetadataRequest()
	body.SetVersion(12)
	topic := "events"
	body.Topics = []kmsg.MetadataRequestTopic{{Topic: &topic}}
	var frame []byte
	frame = binary.BigEndian.AppendUint16(frame, 3)
	frame = binary.BigEndian.AppendUint16(frame, 12)
	frame = binary.BigEndian.AppendUint32(frame, 7)
	frame = binary.BigEndian.AppendUint16(frame, 3)
	frame = append(frame, "cli"...)
	frame = append(frame, 2)             // two tags
	frame = append(frame, 0, 3, 1, 2, 3) // tag 0, 3 bytes
	frame = append(frame, 0x85, 0x01, 0) // tag 133 (two-byte uvarint), empty
	frame = body.AppendTo(frame)

	h, got := parse(t, frame)
	if h.ClientID != "cli" || h.CorrelationID != 7 || h.Version != 12 {
		t.Fatalf("header = %+v", h)
	}
	m := got.(*kmsg.MetadataRequest)
	if len(m.Topics) != 1 || m.Topics[0].Topic == nil || *m.Topics[0].Topic != "events" {
		t.Fatalf("body = %+v", m.Topics)
	}
}

func TestParseRequestBadTags(t *testing.T) {
	head := []byte{0, 3, 0, 12, 0, 0, 0, 1, 0, 0}
	cases := map[string][]byte{
		"tag beyond frame":     append(append([]byte{}, head...), 1, 0, 10, 1, 2),
		"truncated count":      append(append([]byte{}, head...), 0x80),
		"missing tag size":     append(append([]byte{}, head...), 1, 0),
		"no tag buffer at all": head,
	}
	for name, frame := range cases {
		t.Run(name, func(t *testing.T) {
			h, err := ParseHeaderPrefix(frame)
			if err != nil {
				t.Fatal(err)
			}
			err = ParseRequest(frame, &h, kmsg.NewPtrMetadataRequest())
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseRequestClientID(t *testing.T) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(2)
	empty := ""
	for name, id := range map[string]*string{"null": nil, "empty": &empty} {
		t.Run(name, func(t *testing.T) {
			frame := frameOf(req, 1, id)
			// Check the encoded length is what the case claims.
			n := int16(binary.BigEndian.Uint16(frame[8:]))
			if (id == nil) != (n == -1) {
				t.Fatalf("client id length %d", n)
			}
			h, _ := parse(t, frame)
			if h.ClientID != "" {
				t.Fatalf("client id = %q, want empty", h.ClientID)
			}
		})
	}
	bad := map[string][]byte{
		"missing":          {0, 18, 0, 2, 0, 0, 0, 1},
		"half length":      {0, 18, 0, 2, 0, 0, 0, 1, 0},
		"length -2":        {0, 18, 0, 2, 0, 0, 0, 1, 0xff, 0xfe},
		"beyond frame":     {0, 18, 0, 2, 0, 0, 0, 1, 0, 5, 'a', 'b'},
		"min int16 length": {0, 18, 0, 2, 0, 0, 0, 1, 0x80, 0x00},
	}
	for name, frame := range bad {
		t.Run(name, func(t *testing.T) {
			h, err := ParseHeaderPrefix(frame)
			if err != nil {
				t.Fatal(err)
			}
			if err := ParseRequest(frame, &h, kmsg.NewPtrApiVersionsRequest()); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestParseRequestTruncatedBody(t *testing.T) {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.SetVersion(5)
	req.Topics = []kmsg.CreateTopicsRequestTopic{{Topic: "abc", NumPartitions: 3, ReplicationFactor: 1}}
	frame := frameOf(req, 9, nil)
	for n := 10; n < len(frame); n++ {
		h, err := ParseHeaderPrefix(frame[:n])
		if err != nil {
			t.Fatal(err)
		}
		if err := ParseRequest(frame[:n], &h, kmsg.NewPtrCreateTopicsRequest()); !errors.Is(err, ErrMalformed) {
			t.Fatalf("frame cut to %d of %d bytes: err = %v, want ErrMalformed", n, len(frame), err)
		}
	}
}

// readResponse splits a response frame written by AppendResponse and
// decodes it into resp, whose version must already be set.
func readResponse(t *testing.T, frame []byte, flexibleHeader bool, resp kmsg.Response) int32 {
	t.Helper()
	if len(frame) < 8 {
		t.Fatalf("frame of %d bytes", len(frame))
	}
	if n := binary.BigEndian.Uint32(frame); int(n) != len(frame)-4 {
		t.Fatalf("size prefix %d, frame body %d bytes", n, len(frame)-4)
	}
	corr := int32(binary.BigEndian.Uint32(frame[4:]))
	body := frame[8:]
	if flexibleHeader {
		if len(body) == 0 || body[0] != 0 {
			t.Fatalf("response header v1 tag buffer = %v, want 0", body[:1])
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decode %s: %v", kmsg.NameForKey(resp.Key()), err)
	}
	return corr
}

func TestAppendResponseApiVersionsUsesHeaderV0(t *testing.T) {
	for _, v := range []int16{0, 3, 4} {
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(v)
		resp.ApiKeys = []kmsg.ApiVersionsResponseApiKey{{ApiKey: 0, MinVersion: 3, MaxVersion: 13}, {ApiKey: 18, MaxVersion: 4}}
		frame := AppendResponse([]byte("prefix"), 77, resp)
		if string(frame[:6]) != "prefix" {
			t.Fatal("AppendResponse clobbered dst")
		}
		got := kmsg.NewPtrApiVersionsResponse()
		got.SetVersion(v)
		if corr := readResponse(t, frame[6:], false, got); corr != 77 {
			t.Fatalf("v%d: correlation id %d", v, corr)
		}
		if len(got.ApiKeys) != 2 || got.ApiKeys[0].MaxVersion != 13 || got.ApiKeys[1].ApiKey != 18 {
			t.Fatalf("v%d: keys = %+v", v, got.ApiKeys)
		}
	}
}

func TestAppendResponseHeaderVersions(t *testing.T) {
	// Metadata v8 is not flexible (header v0); v9+ is (header v1).
	for _, v := range []int16{8, 9, 13} {
		resp := kmsg.NewPtrMetadataResponse()
		resp.SetVersion(v)
		name := "t1"
		resp.Topics = []kmsg.MetadataResponseTopic{{Topic: &name, Partitions: []kmsg.MetadataResponseTopicPartition{{Partition: 0, Leader: 1}}}}
		resp.Brokers = []kmsg.MetadataResponseBroker{{NodeID: 1, Host: "h", Port: 9092}}
		frame := AppendResponse(nil, -5, resp)
		got := kmsg.NewPtrMetadataResponse()
		got.SetVersion(v)
		if corr := readResponse(t, frame, v >= 9, got); corr != -5 {
			t.Fatalf("v%d: correlation id %d", v, corr)
		}
		if len(got.Topics) != 1 || *got.Topics[0].Topic != "t1" || got.Brokers[0].Port != 9092 {
			t.Fatalf("v%d: decoded %+v", v, got)
		}
	}
}
