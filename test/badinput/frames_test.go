package badinput

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestMalformedFrames sends frames the broker cannot understand. Kafka closes
// such a connection without a response; other connections must not notice.
func TestMalformedFrames(t *testing.T) {
	e := shared(t)

	metadata := kmsg.NewPtrMetadataRequest()
	metadata.SetVersion(9)
	produce := produceReq(dataTopic, 0, -1, plainBatch("never stored"))
	var tmp rawConn
	produceFrame, _ := tmp.frameOf(produce)

	withKey := func(key, version int16, body []byte) []byte {
		return append(header(key, version, 7), body...)
	}
	cases := []struct {
		name string
		// raw bytes to write (size prefix included), or frame (prefix added)
		raw, frame []byte
	}{
		{name: "garbage body", frame: bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 8)},
		{name: "garbage after valid header", frame: withKey(3, 9, bytes.Repeat([]byte{0xff}, 24))},
		{name: "empty frame", frame: []byte{}},
		{name: "truncated header 5 bytes", frame: []byte{0, 3, 0, 9, 0}},
		{name: "truncated header 7 bytes", frame: []byte{0, 18, 0, 3, 0, 0, 0}},
		{name: "client id longer than frame", frame: append(kbin.AppendInt32(kbin.AppendInt16(kbin.AppendInt16(nil, 3), 9), 1), 0x7f, 0xff, 'x')},
		{name: "produce body cut in half", frame: produceFrame[4 : 4+(len(produceFrame)-4)/2]},
		{name: "produce body missing last byte", frame: produceFrame[4 : len(produceFrame)-1]},
		{name: "metadata array longer than body", frame: withKey(3, 4, kbin.AppendInt32(nil, 1000))},
		{name: "metadata array of 2^31-1 topics", frame: withKey(3, 4, kbin.AppendInt32(nil, 1<<31-1))},
		{name: "produce bytes field of 2^31-1", frame: withKey(0, 7, append(kbin.AppendInt32(kbin.AppendInt32(kbin.AppendString(kbin.AppendInt32(kbin.AppendInt32(kbin.AppendInt16(kbin.AppendInt16(nil, -1), 1), 1000), 1), "data"), 1), 0), 0x7f, 0xff, 0xff, 0xff))},
		{name: "negative size", raw: []byte{0xff, 0xff, 0xff, 0xff}},
		{name: "negative size with body", raw: append([]byte{0x80, 0, 0, 0}, produceFrame[4:]...)},
		{name: "size above socket.request.max.bytes", raw: kbin.AppendInt32(nil, socketMax+1)},
		{name: "size far above socket.request.max.bytes", raw: kbin.AppendInt32(nil, 1<<30)},
		{name: "unknown api key 999", frame: withKey(999, 0, nil)},
		{name: "unknown api key -1", frame: withKey(-1, 0, nil)},
		{name: "produce v2", frame: withKey(0, 2, produceFrame[4+8+2+len("badinput")+1:])},
		{name: "fetch v3", frame: withKey(1, 3, nil)},
		{name: "metadata v99", frame: withKey(3, 99, nil)},
		{name: "metadata v-1", frame: withKey(3, -1, nil)},
	}

	// keeper is another raw connection that stays open across every case.
	keeper := dialRaw(t, e.b.Addr)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, e.b.Addr)
			var err error
			if tc.raw != nil {
				err = c.writeBytes(tc.raw)
			} else {
				err = c.writeFrame(tc.frame)
			}
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			expectClosed(t, c, tc.name)

			// The open connection still answers.
			mresp := keeper.roundTrip(t, metadata).(*kmsg.MetadataResponse)
			if len(mresp.Brokers) != 1 {
				t.Fatalf("metadata on the kept connection lists %d brokers", len(mresp.Brokers))
			}
			e.afterCase(t)
		})
	}
}

// TestOversizedFrameFullyWritten writes a whole frame above
// socket.request.max.bytes: the broker must close without reading it all
// and must not answer the valid request inside.
func TestOversizedFrameFullyWritten(t *testing.T) {
	e := shared(t)
	c := dialRaw(t, e.b.Addr)
	big := make([]byte, socketMax+1024)
	copy(big, header(18, 0, 1))
	_ = c.writeFrame(big) // may fail with a reset once the broker closes
	expectClosed(t, c, "oversized ApiVersions frame")
	e.afterCase(t)
}

// TestPartialFrameThenHangup leaves a frame unfinished and closes.
func TestPartialFrameThenHangup(t *testing.T) {
	e := shared(t)
	for i := 0; i < 5; i++ {
		c := dialRaw(t, e.b.Addr)
		if err := c.writeBytes(kbin.AppendInt32(nil, 100), header(3, 9, 1)); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	e.afterCase(t)
}

// TestApiVersionsTooNew: Kafka answers an ApiVersions request at a version
// it does not know with UNSUPPORTED_VERSION in a v0 response that still
// lists its ApiKeys, and keeps the connection open.
func TestApiVersionsTooNew(t *testing.T) {
	e := shared(t)
	c := dialRaw(t, e.b.Addr)
	for _, v := range []int16{99, 5, 127} {
		body := header(18, v, 4242)
		// A flexible-looking body that no version we know defines.
		body = append(body, 0, 3, 'a', 'b', 'c', 0)
		if err := c.writeFrame(body); err != nil {
			t.Fatal(err)
		}
		corr, rest, err := c.readFrame(10e9)
		if err != nil {
			t.Fatalf("v%d: no response: %v", v, err)
		}
		if corr != 4242 {
			t.Fatalf("v%d: correlation id %d, want 4242", v, corr)
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(0)
		if err := resp.ReadFrom(rest); err != nil {
			t.Fatalf("v%d: response is not an ApiVersions v0 response: %v (% x)", v, err, rest)
		}
		wantCode(t, "ApiVersions v99", resp.ErrorCode, kerr.UnsupportedVersion)
		keys := map[int16]kmsg.ApiVersionsResponseApiKey{}
		for _, k := range resp.ApiKeys {
			keys[k.ApiKey] = k
		}
		for _, need := range []int16{0, 1, 3, 18} {
			if _, ok := keys[need]; !ok {
				t.Errorf("v%d: UNSUPPORTED_VERSION response does not list api key %d (%s): %+v", v, need, kmsg.NameForKey(need), resp.ApiKeys)
			}
		}
		if k := keys[18]; k.MaxVersion < 3 || k.MinVersion != 0 {
			t.Errorf("v%d: ApiVersions range %d-%d, want 0-3 or wider", v, k.MinVersion, k.MaxVersion)
		}
	}
	// The same connection then works at a supported version.
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	req.ClientSoftwareName, req.ClientSoftwareVersion = "badinput", "1.0"
	resp := c.roundTrip(t, req).(*kmsg.ApiVersionsResponse)
	wantNoErr(t, "ApiVersions v3 after v99", resp.ErrorCode)
	e.afterCase(t)
}
