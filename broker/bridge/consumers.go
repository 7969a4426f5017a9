package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// instanceKey names a consumer instance: its group and its name in the group.
type instanceKey struct{ group, name string }

// createConsumerJSON is the body of POST /consumers/{group}; every field is
// optional.
type createConsumerJSON struct {
	Name             string    `json:"name"`
	Format           string    `json:"format"`
	AutoOffsetReset  string    `json:"auto.offset.reset"`
	EnableAutoCommit *flexBool `json:"enable.auto.commit"`
	FetchMinBytes    *int32    `json:"fetch.min.bytes"`
	RequestTimeoutMs *int64    `json:"consumer.request.timeout.ms"`
	IsolationLevel   string    `json:"isolation.level"`
}

// flexBool accepts true/false and the strings "true"/"false", as Kafka
// properties are often written as strings.
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true", `"true"`:
		*f = true
	case "false", `"false"`:
		*f = false
	default:
		return &json.UnsupportedValueError{Str: string(b)}
	}
	return nil
}

type createdConsumerJSON struct {
	InstanceID string `json:"instance_id"`
	BaseURI    string `json:"base_uri"`
}

var validName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// parseInstanceConfig validates a create request against Strimzi's options.
func parseInstanceConfig(req createConsumerJSON) (instanceConfig, error) {
	cfg := instanceConfig{
		autoOffsetReset: "latest",
		autoCommit:      true,
		fetchMinBytes:   1,
		requestTimeout:  30 * time.Second,
		readCommitted:   false,
	}
	f, err := parseFormat(req.Format)
	if err != nil {
		return cfg, errorf(http.StatusUnprocessableEntity, "format: %v", err)
	}
	cfg.format = f
	switch req.AutoOffsetReset {
	case "":
	case "earliest", "latest", "none":
		cfg.autoOffsetReset = req.AutoOffsetReset
	default:
		return cfg, errorf(http.StatusUnprocessableEntity, "auto.offset.reset %q: want earliest, latest or none", req.AutoOffsetReset)
	}
	if req.EnableAutoCommit != nil {
		cfg.autoCommit = bool(*req.EnableAutoCommit)
	}
	if req.FetchMinBytes != nil {
		if *req.FetchMinBytes < 0 {
			return cfg, errorf(http.StatusUnprocessableEntity, "fetch.min.bytes %d is negative", *req.FetchMinBytes)
		}
		cfg.fetchMinBytes = *req.FetchMinBytes
	}
	if req.RequestTimeoutMs != nil {
		if *req.RequestTimeoutMs <= 0 {
			return cfg, errorf(http.StatusUnprocessableEntity, "consumer.request.timeout.ms %d must be positive", *req.RequestTimeoutMs)
		}
		cfg.requestTimeout = time.Duration(*req.RequestTimeoutMs) * time.Millisecond
	}
	switch req.IsolationLevel {
	case "", "read_uncommitted":
	case "read_committed":
		cfg.readCommitted = true
	default:
		return cfg, errorf(http.StatusUnprocessableEntity, "isolation.level %q: want read_committed or read_uncommitted", req.IsolationLevel)
	}
	return cfg, nil
}

func randomName() string {
	var b [8]byte
	rand.Read(b[:])
	return "strata-bridge-consumer-" + hex.EncodeToString(b[:])
}

func (b *Bridge) createConsumer(w http.ResponseWriter, r *http.Request) {
	var req createConsumerJSON
	if err := b.readJSON(w, r, &req, true); err != nil {
		writeError(w, err)
		return
	}
	cfg, err := parseInstanceConfig(req)
	if err != nil {
		writeError(w, err)
		return
	}
	group := r.PathValue("group")
	name := req.Name
	if name == "" {
		name = randomName()
	}
	if !validName.MatchString(name) {
		writeError(w, errorf(http.StatusUnprocessableEntity, "consumer name %q: use 1-249 of A-Z a-z 0-9 . _ -", name))
		return
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	key := instanceKey{group: group, name: name}
	in := &instance{
		b:   b,
		key: key,
		cfg: cfg,
		baseURI: (&url.URL{Scheme: scheme, Host: r.Host,
			Path: "/consumers/" + group + "/instances/" + name}).String(),
	}
	in.touch()

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		writeError(w, errorf(http.StatusServiceUnavailable, "bridge is shutting down"))
		return
	}
	if _, ok := b.consumers[key]; ok {
		b.mu.Unlock()
		writeError(w, errorf(http.StatusConflict, "a consumer instance named %q already exists in group %q", name, group))
		return
	}
	b.consumers[key] = in
	b.metrics.instances.Set(float64(len(b.consumers)))
	b.mu.Unlock()

	b.log.Info("consumer instance created", "group", group, "name", name, "format", cfg.format)
	writeJSON(w, http.StatusOK, contentTypeV2, createdConsumerJSON{InstanceID: name, BaseURI: in.baseURI})
}

// acquire finds the request's consumer instance and marks it in use until
// release, so it cannot expire underneath the request.
func (b *Bridge) acquire(r *http.Request) (*instance, error) {
	key := instanceKey{group: r.PathValue("group"), name: r.PathValue("name")}
	b.mu.Lock()
	defer b.mu.Unlock()
	in, ok := b.consumers[key]
	if !ok {
		return nil, errorf(http.StatusNotFound, "consumer instance %q not found in group %q", key.name, key.group)
	}
	in.inUse.Add(1)
	in.touch()
	return in, nil
}

func (in *instance) release() {
	in.touch()
	in.inUse.Add(-1)
}

func (b *Bridge) deleteConsumer(w http.ResponseWriter, r *http.Request) {
	in, err := b.acquire(r)
	if err != nil {
		writeError(w, err)
		return
	}
	in.release()
	b.mu.Lock()
	if b.consumers[in.key] == in {
		delete(b.consumers, in.key)
	}
	b.metrics.instances.Set(float64(len(b.consumers)))
	b.mu.Unlock()
	ctx, cancel := requestCtx(r)
	defer cancel()
	in.close(ctx)
	b.log.Info("consumer instance deleted", "group", in.key.group, "name", in.key.name)
	w.WriteHeader(http.StatusNoContent)
}

// expireLoop deletes instances idle for longer than ConsumerIdleTimeout.
func (b *Bridge) expireLoop() {
	defer b.wg.Done()
	every := min(max(b.cfg.ConsumerIdleTimeout/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		var expired []*instance
		b.mu.Lock()
		for k, in := range b.consumers {
			if in.inUse.Load() == 0 && now.Sub(in.lastUsedTime()) > b.cfg.ConsumerIdleTimeout {
				delete(b.consumers, k)
				expired = append(expired, in)
			}
		}
		b.metrics.instances.Set(float64(len(b.consumers)))
		b.mu.Unlock()
		for _, in := range expired {
			b.log.Info("consumer instance expired", "group", in.key.group, "name", in.key.name,
				"idle_timeout", b.cfg.ConsumerIdleTimeout)
			b.metrics.expired.Inc()
			in.close(context.Background())
		}
	}
}
