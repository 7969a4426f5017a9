package broker

import (
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// reply is a handler's answer: a response that is ready now, one that will
// arrive on ch (long-poll fetch, acks=all produce, group rebalances), or
// nothing at all (acks=0 produce).
type reply struct {
	resp kmsg.Response
	ch   <-chan kmsg.Response
	none bool
	// release, if set, is called once the response has been written or
	// encoded (never if it is abandoned): it frees pooled buffers the
	// response refers to.
	release func()
}

func now(r kmsg.Response) reply { return reply{resp: r} }

// released runs the reply's release, if any.
func (r reply) released() {
	if r.release != nil {
		r.release()
	}
}

// later returns a pending reply and the function that completes it. The
// function must be called exactly once.
func later() (reply, func(kmsg.Response)) {
	ch := make(chan kmsg.Response, 1)
	return reply{ch: ch}, func(r kmsg.Response) { ch <- r }
}

// handler serves one decoded request. It runs on the connection's read
// goroutine, so state changes it makes are ordered with the connection's
// other requests; anything that waits must go in a pending reply.
type handler func(b *Broker, c *conn, req kmsg.Request) reply

type apiEntry struct {
	key      int16
	min, max int16
	fn       handler
}

var apis = map[int16]*apiEntry{}

// register adds an API to the registry, the only source of the
// ApiVersions response. It panics on a duplicate key or a range kmsg
// cannot encode.
func register(key, min, max int16, fn handler) {
	if _, dup := apis[key]; dup {
		panic(fmt.Sprintf("api key %d registered twice", key))
	}
	req := kmsg.RequestForKey(key)
	if req == nil || max > req.MaxVersion() || min > max || min < 0 {
		panic(fmt.Sprintf("api key %d: bad version range %d-%d", key, min, max))
	}
	apis[key] = &apiEntry{key: key, min: min, max: max, fn: fn}
}

func lookupAPI(key, version int16) (*apiEntry, bool) {
	e, ok := apis[key]
	if !ok || version < e.min || version > e.max {
		return e, false
	}
	return e, true
}

// apiVersionKeys lists the registry sorted by key.
func apiVersionKeys() []kmsg.ApiVersionsResponseApiKey {
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(apis))
	for _, e := range apis {
		out = append(out, kmsg.ApiVersionsResponseApiKey{ApiKey: e.key, MinVersion: e.min, MaxVersion: e.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ApiKey < out[j].ApiKey })
	return out
}
