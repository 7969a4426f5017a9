package broker

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRegistryRangesWithinKmsg(t *testing.T) {
	if len(apis) == 0 {
		t.Fatal("registry is empty")
	}
	for key, e := range apis {
		if e.key != key {
			t.Errorf("key %d stored under %d", e.key, key)
		}
		req := kmsg.RequestForKey(key)
		if req == nil {
			t.Errorf("key %d unknown to kmsg", key)
			continue
		}
		if e.min < 0 || e.min > e.max || e.max > req.MaxVersion() {
			t.Errorf("%s: range v%d-%d, kmsg max v%d", kmsg.NameForKey(key), e.min, e.max, req.MaxVersion())
		}
		if e.fn == nil {
			t.Errorf("%s: nil handler", kmsg.NameForKey(key))
		}
	}
}

func TestRegistryFloors(t *testing.T) {
	// Version floors from the issue; an API the issue requires must be there.
	floors := map[int16]int16{0: 3, 1: 4}
	for key, min := range floors {
		e, ok := apis[key]
		if !ok {
			t.Errorf("%s not registered", kmsg.NameForKey(key))
			continue
		}
		if e.min != min {
			t.Errorf("%s min v%d, want v%d", kmsg.NameForKey(key), e.min, min)
		}
	}
	required := []int16{0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 32, 33, 35, 37, 42, 44, 47, 60, 61}
	for _, key := range required {
		if _, ok := apis[key]; !ok {
			t.Errorf("%s (%d) not registered", kmsg.NameForKey(key), key)
		}
	}
}

func TestLookupAPI(t *testing.T) {
	e := apis[0]
	if _, ok := lookupAPI(0, e.min); !ok {
		t.Error("Produce min version not found")
	}
	if _, ok := lookupAPI(0, e.max); !ok {
		t.Error("Produce max version not found")
	}
	if got, ok := lookupAPI(0, e.min-1); ok || got != e {
		t.Errorf("Produce v%d: ok=%v entry=%v", e.min-1, ok, got)
	}
	if _, ok := lookupAPI(0, e.max+1); ok {
		t.Error("Produce above max accepted")
	}
	if got, ok := lookupAPI(9999, 0); ok || got != nil {
		t.Error("unknown key found")
	}
}

func TestRegisterPanics(t *testing.T) {
	mustPanic := func(name, want string, fn func()) {
		t.Helper()
		defer func() {
			r := recover()
			if r == nil {
				t.Errorf("%s: no panic", name)
				return
			}
			if msg, _ := r.(string); !strings.Contains(msg, want) {
				t.Errorf("%s: panic %v, want it to mention %q", name, r, want)
			}
		}()
		fn()
	}
	before := len(apis)
	mustPanic("duplicate", "twice", func() { register(0, 3, 5, handleProduce) })
	mustPanic("unknown key", "bad version range", func() { register(30000, 0, 0, handleProduce) })
	mustPanic("max beyond kmsg", "bad version range", func() {
		register(57, 0, kmsg.RequestForKey(57).MaxVersion()+1, handleProduce)
	})
	mustPanic("min above max", "bad version range", func() { register(57, 1, 0, handleProduce) })
	mustPanic("negative min", "bad version range", func() { register(57, -1, 0, handleProduce) })
	if len(apis) != before || apis[0].min != 3 {
		t.Fatalf("failed register changed the registry")
	}
}

func TestApiVersionsListsRegistry(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	for _, v := range []int16{0, 1, 2, 3, 4} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.ClientSoftwareName, req.ClientSoftwareVersion = "strata-test", "1.0.0"
		resp := do[*kmsg.ApiVersionsResponse](rc, v, req)
		if resp.ErrorCode != 0 {
			t.Fatalf("v%d: error %d", v, resp.ErrorCode)
		}
		assertKeysMatchRegistry(t, resp.ApiKeys)
	}
}

func assertKeysMatchRegistry(t *testing.T, keys []kmsg.ApiVersionsResponseApiKey) {
	t.Helper()
	if len(keys) != len(apis) {
		t.Fatalf("%d keys listed, registry has %d", len(keys), len(apis))
	}
	for i, k := range keys {
		if i > 0 && keys[i-1].ApiKey >= k.ApiKey {
			t.Fatalf("keys not sorted: %d then %d", keys[i-1].ApiKey, k.ApiKey)
		}
		e, ok := apis[k.ApiKey]
		if !ok || e.min != k.MinVersion || e.max != k.MaxVersion {
			t.Fatalf("key %d listed v%d-%d, registry %+v", k.ApiKey, k.MinVersion, k.MaxVersion, e)
		}
	}
}

func TestApiVersionsTooNew(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	// A v99 request: body is unknown, so send a v4-shaped body under a
	// higher version number by patching the header.
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(4)
	buf, corr := rc.frame(req)
	buf[6], buf[7] = 0, 99
	if _, err := rc.nc.Write(buf); err != nil {
		t.Fatal(err)
	}
	// The answer is v0 whatever was asked.
	v0 := kmsg.NewPtrApiVersionsRequest()
	v0.SetVersion(0)
	resp, got := rc.recv(v0)
	if got != corr {
		t.Fatalf("correlation id %d, want %d", got, corr)
	}
	r := resp.(*kmsg.ApiVersionsResponse)
	if r.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("error %d, want UNSUPPORTED_VERSION (35)", r.ErrorCode)
	}
	assertKeysMatchRegistry(t, r.ApiKeys)
	// The connection stays usable.
	ok := do[*kmsg.ApiVersionsResponse](rc, 3, kmsg.NewPtrApiVersionsRequest())
	if ok.ErrorCode != 0 {
		t.Fatalf("follow-up ApiVersions v3: error %d", ok.ErrorCode)
	}
}

func TestApiVersionsBadSoftwareName(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "-bad name", "1"
	resp := do[*kmsg.ApiVersionsResponse](rc, 3, req)
	if resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("error %d, want INVALID_REQUEST", resp.ErrorCode)
	}
}

func TestUnsupportedVersionClosesConnection(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(apis[0].min - 1)
	rc.send(req)
	rc.expectClosed(req)
}

// TestApiVersionsUnparseable: an ApiVersions body that cannot be parsed at
// a supported version closes the connection, as in Kafka (only an
// unsupported version, or invalid software names, get an answer).
func TestApiVersionsUnparseable(t *testing.T) {
	tb := startBroker(t, nil)
	rc := tb.dial(t)
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(3)
	buf, _ := rc.frame(req)
	// Replace the body with a compact string claiming 100 bytes.
	buf = append(buf[:len(buf)-3], 101)
	buf[3] = byte(len(buf) - 4)
	if _, err := rc.nc.Write(buf); err != nil {
		t.Fatal(err)
	}
	rc.expectClosed(req)
}
