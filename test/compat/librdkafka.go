package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	ckafka "github.com/confluentinc/confluent-kafka-go/v2/kafka"
)

// Librdkafka is librdkafka, driven two ways. Which tool does each step:
//
//	Partitions (Metadata)       kcat -L -J
//	Consume (Fetch)             kcat -C -J -o <offset|beginning> -c N
//	ListOffset (by time, -1/-2) kcat -Q -J -t topic:partition:ts
//	GroupConsume (groups)       N concurrent `kcat -G` processes, SIGINT to stop
//	                            (librdkafka auto-commit + final commit on close)
//	Produce                     confluent-kafka-go Producer: kcat -P can set
//	                            neither per-record timestamps nor per-record headers
//	CreateTopic, DeleteTopic,   confluent-kafka-go AdminClient: kcat has no
//	CreatePartitions, configs,  admin operations
//	DeleteRecords
//
// confluent-kafka-go links its own bundled librdkafka (2.11); kcat uses the
// system one (`kcat -V`), so two librdkafka versions are exercised.
type Librdkafka struct {
	addr string
	opts Options
	kcat string
	adm  *ckafka.AdminClient
}

// NewLibrdkafkaWith is NewLibrdkafka with options; the rack goes to every
// kcat run as client.rack.
func NewLibrdkafkaWith(addr string, o Options) (Client, error) {
	c, err := NewLibrdkafka(addr)
	if err != nil {
		return nil, err
	}
	c.(*Librdkafka).opts = o
	return c, nil
}

// kcatArgs are the arguments every kcat run starts with.
func (l *Librdkafka) kcatArgs(args ...string) []string {
	out := []string{"-b", l.addr}
	if l.opts.Rack != "" {
		out = append(out, "-X", "client.rack="+l.opts.Rack)
	}
	return append(out, args...)
}

// NewLibrdkafka returns the librdkafka client; it fails if kcat is not installed.
func NewLibrdkafka(addr string) (Client, error) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		return nil, fmt.Errorf("librdkafka: kcat is required (apt-get install kcat): %w", err)
	}
	adm, err := ckafka.NewAdminClient(&ckafka.ConfigMap{"bootstrap.servers": addr, "log_level": 4})
	if err != nil {
		return nil, fmt.Errorf("librdkafka admin: %w", err)
	}
	return &Librdkafka{addr: addr, kcat: kcat, adm: adm}, nil
}

func (l *Librdkafka) Name() string { return "librdkafka" }

func (l *Librdkafka) Close() error { l.adm.Close(); return nil }

// rdErr makes a librdkafka broker error code match kerr (librdkafka's own
// negative codes are left as they are).
func rdErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ke ckafka.Error
	if errors.As(err, &ke) {
		if ke.Code() == ckafka.ErrNoError {
			return nil
		}
		wrapped := fmt.Errorf("librdkafka %s: %w", op, err)
		if ke.Code() > 0 {
			return withCode(wrapped, int16(ke.Code()))
		}
		return wrapped
	}
	return fmt.Errorf("librdkafka %s: %w", op, err)
}

func topicResultsErr(op string, rs []ckafka.TopicResult, err error) error {
	if err != nil {
		return rdErr(op, err)
	}
	for _, r := range rs {
		if r.Error.Code() != ckafka.ErrNoError {
			return rdErr(op+" "+r.Topic, r.Error)
		}
	}
	return nil
}

func (l *Librdkafka) CreateTopic(ctx context.Context, topic string, partitions int32) error {
	rs, err := l.adm.CreateTopics(ctx, []ckafka.TopicSpecification{{Topic: topic, NumPartitions: int(partitions), ReplicationFactor: int(l.opts.rf())}})
	return topicResultsErr("create topic", rs, err)
}

func (l *Librdkafka) DeleteTopic(ctx context.Context, topic string) error {
	rs, err := l.adm.DeleteTopics(ctx, []string{topic})
	return topicResultsErr("delete topic", rs, err)
}

func (l *Librdkafka) CreatePartitions(ctx context.Context, topic string, total int32) error {
	rs, err := l.adm.CreatePartitions(ctx, []ckafka.PartitionsSpecification{{Topic: topic, IncreaseTo: int(total)}})
	return topicResultsErr("create partitions", rs, err)
}

func (l *Librdkafka) TopicConfigs(ctx context.Context, topic string) (map[string]string, error) {
	rs, err := l.adm.DescribeConfigs(ctx, []ckafka.ConfigResource{{Type: ckafka.ResourceTopic, Name: topic}})
	if err != nil {
		return nil, rdErr("describe configs", err)
	}
	out := make(map[string]string)
	for _, r := range rs {
		if r.Error.Code() != ckafka.ErrNoError {
			return nil, rdErr("describe configs", r.Error)
		}
		for k, e := range r.Config {
			out[k] = e.Value
		}
	}
	return out, nil
}

func (l *Librdkafka) SetTopicConfig(ctx context.Context, topic, key, value string) error {
	rs, err := l.adm.IncrementalAlterConfigs(ctx, []ckafka.ConfigResource{{Type: ckafka.ResourceTopic, Name: topic,
		Config: []ckafka.ConfigEntry{{Name: key, Value: value, IncrementalOperation: ckafka.AlterConfigOpTypeSet}}}})
	if err != nil {
		return rdErr("incremental alter configs", err)
	}
	for _, r := range rs {
		if r.Error.Code() != ckafka.ErrNoError {
			return rdErr("incremental alter configs", r.Error)
		}
	}
	return nil
}

// kcatRun runs kcat with args and returns its stdout; stderr goes in errors.
func (l *Librdkafka) kcatRun(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, l.kcat, l.kcatArgs(args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("kcat %v: %w; stderr: %s", args, err, tail(stderr.String(), 2000))
	}
	return stdout.Bytes(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func (l *Librdkafka) Partitions(ctx context.Context, topic string) (int32, error) {
	// All topics (no -t): asking for one topic could auto-create it.
	out, err := l.kcatRun(ctx, "-L", "-J", "-m", "10")
	if err != nil {
		return 0, err
	}
	var md struct {
		Topics []struct {
			Topic      string            `json:"topic"`
			Error      string            `json:"error"`
			Partitions []json.RawMessage `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.Unmarshal(out, &md); err != nil {
		return 0, fmt.Errorf("kcat -L: parse %q: %w", tail(string(out), 500), err)
	}
	for _, t := range md.Topics {
		if t.Topic == topic {
			if t.Error != "" {
				return 0, fmt.Errorf("kcat -L: topic %s: %s", topic, t.Error)
			}
			return int32(len(t.Partitions)), nil
		}
	}
	return -1, nil
}

func (l *Librdkafka) Produce(ctx context.Context, topic, codec string, recs []Record) error {
	p, err := ckafka.NewProducer(&ckafka.ConfigMap{
		"bootstrap.servers": l.addr, "compression.codec": codec, "linger.ms": 5, "acks": "all", "log_level": 4,
	})
	if err != nil {
		return rdErr("producer", err)
	}
	defer p.Close()
	dr := make(chan ckafka.Event, len(recs))
	for _, r := range recs {
		m := &ckafka.Message{
			TopicPartition: ckafka.TopicPartition{Topic: &topic, Partition: r.Partition},
			Key:            r.Key, Value: r.Value, Timestamp: r.Timestamp,
		}
		for _, h := range r.Headers {
			m.Headers = append(m.Headers, ckafka.Header{Key: h.Key, Value: h.Value})
		}
		for {
			err := p.Produce(m, dr)
			if err == nil {
				break
			}
			var ke ckafka.Error
			if errors.As(err, &ke) && ke.Code() == ckafka.ErrQueueFull {
				p.Flush(100)
				continue
			}
			return rdErr("produce", err)
		}
	}
	for range recs {
		select {
		case ev := <-dr:
			if m, ok := ev.(*ckafka.Message); ok && m.TopicPartition.Error != nil {
				return rdErr("produce delivery", m.TopicPartition.Error)
			}
		case <-ctx.Done():
			return fmt.Errorf("librdkafka produce: waiting for delivery reports: %w", ctx.Err())
		}
	}
	return nil
}

// kcatRecord is one line of `kcat -C -J` output.
type kcatRecord struct {
	Partition int32    `json:"partition"`
	Offset    int64    `json:"offset"`
	TS        int64    `json:"ts"`
	Headers   []string `json:"headers"`
	Key       *string  `json:"key"`
	Payload   *string  `json:"payload"`
}

func parseKcatRecord(line []byte) (Record, error) {
	var kr kcatRecord
	if err := json.Unmarshal(line, &kr); err != nil {
		return Record{}, fmt.Errorf("kcat -J line %q: %w", tail(string(line), 300), err)
	}
	r := Record{Partition: kr.Partition, Offset: kr.Offset, Timestamp: time.UnixMilli(kr.TS)}
	if kr.Key != nil {
		r.Key = []byte(*kr.Key)
	}
	if kr.Payload != nil {
		r.Value = []byte(*kr.Payload)
	}
	if len(kr.Headers)%2 != 0 {
		return r, fmt.Errorf("kcat -J headers: odd length %d", len(kr.Headers))
	}
	for i := 0; i < len(kr.Headers); i += 2 {
		r.Headers = append(r.Headers, Header{Key: kr.Headers[i], Value: []byte(kr.Headers[i+1])})
	}
	return r, nil
}

func (l *Librdkafka) Consume(ctx context.Context, topic string, partition int32, from int64, n int) ([]Record, error) {
	offset := strconv.FormatInt(from, 10)
	if from == Earliest {
		offset = "beginning"
	}
	out, err := l.kcatRun(ctx, "-C", "-J", "-q", "-t", topic, "-p", strconv.Itoa(int(partition)),
		"-o", offset, "-c", strconv.Itoa(n))
	if err != nil {
		return nil, err
	}
	var recs []Record
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		r, err := parseKcatRecord(line)
		if err != nil {
			return recs, err
		}
		recs = append(recs, r)
	}
	if len(recs) != n {
		return recs, fmt.Errorf("kcat -C: got %d records, want %d", len(recs), n)
	}
	return recs, nil
}

func (l *Librdkafka) ListOffset(ctx context.Context, topic string, partition int32, ts int64) (int64, error) {
	out, err := l.kcatRun(ctx, "-Q", "-J", "-t", fmt.Sprintf("%s:%d:%d", topic, partition, ts))
	if err != nil {
		return 0, err
	}
	var res map[string]map[string]json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, fmt.Errorf("kcat -Q: parse %q: %w", out, err)
	}
	raw, ok := res[topic][strconv.Itoa(int(partition))]
	if !ok {
		return 0, fmt.Errorf("kcat -Q: no result for %s/%d in %s", topic, partition, out)
	}
	var p struct {
		Offset int64  `json:"offset"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return 0, fmt.Errorf("kcat -Q: parse %s: %w", raw, err)
	}
	if p.Error != "" {
		return 0, fmt.Errorf("kcat -Q: %s", p.Error)
	}
	return p.Offset, nil
}

func (l *Librdkafka) DeleteRecords(ctx context.Context, topic string, partition int32, before int64) error {
	res, err := l.adm.DeleteRecords(ctx, []ckafka.TopicPartition{{Topic: &topic, Partition: partition, Offset: ckafka.Offset(before)}})
	if err != nil {
		return rdErr("delete records", err)
	}
	for _, r := range res.DeleteRecordsResults {
		if r.TopicPartition.Error != nil {
			return rdErr("delete records", r.TopicPartition.Error)
		}
	}
	return nil
}

func (l *Librdkafka) GroupConsume(ctx context.Context, group, topic string, members, n int) ([][]Record, error) {
	return runMembers(ctx, members, n, func(ctx context.Context, deliver func(Record) bool) error {
		cmd := exec.Command(l.kcat, l.kcatArgs("-G", group, "-J", "-u", "-q",
			"-X", "auto.offset.reset=earliest", "-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100",
			"-X", "session.timeout.ms=10000", "-X", "heartbeat.interval.ms=500", topic)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return fmt.Errorf("kcat -G: %w", err)
		}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("kcat -G: %w", err)
		}
		var (
			once     sync.Once
			signaled atomic.Bool
		)
		interrupt := func() { // kcat commits stored offsets and leaves the group on SIGINT
			once.Do(func() { signaled.Store(true); _ = cmd.Process.Signal(syscall.SIGINT) })
		}
		stop := context.AfterFunc(ctx, interrupt)
		defer stop()

		var parseErr error
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			r, err := parseKcatRecord(sc.Bytes())
			if err != nil {
				parseErr = err
				interrupt()
				continue
			}
			if !deliver(r) {
				interrupt()
			}
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		var werr error
		select {
		case werr = <-waited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
			return fmt.Errorf("kcat -G did not exit within 20s of SIGINT; stderr: %s", tail(stderr.String(), 2000))
		}
		if parseErr != nil {
			return parseErr
		}
		if !signaled.Load() {
			return fmt.Errorf("kcat -G exited on its own (%v); stderr: %s", werr, tail(stderr.String(), 2000))
		}
		if werr != nil {
			return fmt.Errorf("kcat -G exit: %w; stderr: %s", werr, tail(stderr.String(), 2000))
		}
		return nil
	})
}

// ProduceText produces with `kcat -P -K '\t' -z codec -H k=v ...`, one
// "key<TAB>value" line per record on stdin.
func (l *Librdkafka) ProduceText(ctx context.Context, topic, codec string, partition int32, headers []Header, recs []Record) error {
	args := []string{"-b", l.addr, "-P", "-t", topic, "-p", strconv.Itoa(int(partition)), "-K", "\t",
		"-X", "acks=all", "-X", "linger.ms=5"}
	if codec != "none" {
		args = append(args, "-z", codec)
	}
	for _, h := range headers {
		args = append(args, "-H", h.Key+"="+string(h.Value))
	}
	var in bytes.Buffer
	for _, r := range recs {
		in.Write(r.Key)
		in.WriteByte('\t')
		in.Write(r.Value)
		in.WriteByte('\n')
	}
	cmd := exec.CommandContext(ctx, l.kcat, args...)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kcat -P: %w; stderr: %s", err, tail(stderr.String(), 2000))
	}
	if s := stderr.String(); strings.Contains(s, "ERROR") || strings.Contains(s, "%3|") {
		return fmt.Errorf("kcat -P reported errors: %s", tail(s, 2000))
	}
	return nil
}
