package bridge

import (
	"net/http"
	"strconv"
	"time"
)

// routes builds the ServeMux. Unmatched paths get a JSON 404 and known paths
// with the wrong method a JSON 405, instead of ServeMux's plain-text replies.
func (b *Bridge) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(http.ResponseWriter, *http.Request)) {
		mux.Handle(pattern, b.instrument(pattern, h))
	}
	handle("GET /topics", b.listTopics)
	handle("GET /topics/{topic}", b.getTopic)
	handle("POST /topics/{topic}", b.produceTopic)
	handle("GET /topics/{topic}/partitions", b.listPartitions)
	handle("GET /topics/{topic}/partitions/{partition}", b.getPartition)
	handle("POST /topics/{topic}/partitions/{partition}", b.producePartition)
	handle("GET /topics/{topic}/partitions/{partition}/offsets", b.partitionOffsets)

	handle("POST /consumers/{group}", b.createConsumer)
	handle("DELETE /consumers/{group}/instances/{name}", b.deleteConsumer)
	handle("POST /consumers/{group}/instances/{name}/subscription", b.subscribe)
	handle("GET /consumers/{group}/instances/{name}/subscription", b.getSubscription)
	handle("DELETE /consumers/{group}/instances/{name}/subscription", b.unsubscribe)
	handle("GET /consumers/{group}/instances/{name}/records", b.pollRecords)
	handle("POST /consumers/{group}/instances/{name}/offsets", b.commitOffsets)
	handle("POST /consumers/{group}/instances/{name}/positions", b.seek)
	handle("POST /consumers/{group}/instances/{name}/positions/beginning", b.seekBeginning)
	handle("POST /consumers/{group}/instances/{name}/positions/end", b.seekEnd)

	fallback := func(w http.ResponseWriter, r *http.Request) {
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := mux.Handler(probe); p != "/" {
				writeError(w, errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", r.Method, r.URL.Path))
				return
			}
		}
		writeError(w, errorf(http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
	}
	mux.Handle("/", b.instrument("other", fallback))
	return mux
}

// statusRecorder remembers the status code written.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (b *Bridge) instrument(route string, h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		b.metrics.observe(route, strconv.Itoa(rec.code), time.Since(start))
		if rec.code >= 500 {
			b.log.Warn("bridge request failed", "method", r.Method, "path", r.URL.Path, "status", rec.code)
		}
	})
}
