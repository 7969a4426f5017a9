package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	mc "github.com/minio/minio-go/v7"

	"github.com/strata-io/strata/test/harness"
)

// Topic shapes of the tiering section. Small segments seal and upload
// during a produce phase; a local retention of one segment leaves a cold
// data set almost entirely in the bucket.
const (
	tierBucket        = "strata-bench"
	tierSegmentBytes  = 8 << 20
	tierLocalRetBytes = 8 << 20
	// tierLatencyCache is the chunk cache of the broker in the latency
	// phases: far below the data set, so a looping reader stays cold.
	tierLatencyCache = 64 << 20
	// tierLatencyRepeats is how many times the ABBA latency sequence (no
	// reader, reader, reader, no reader) runs: a single stall of ~80 ms,
	// seen here with and without a reader, moves one 10 s phase's p99.
	tierLatencyRepeats = 2
	// remoteReadMetric counts the bytes strata's cold reads got from the bucket.
	remoteReadMetric = "strata_remote_read_bytes_total"
	// tierProduceRounds measured produce rounds per broker, summed: one
	// 1 GiB round lasts about a second here, too short to trust alone.
	tierProduceRounds = 4
	// uploadBacklogMetric is strata's count of sealed bytes not yet uploaded.
	uploadBacklogMetric = "strata_tiering_upload_backlog_bytes"
)

// tieringOptions are the tiering section's inputs.
type tieringOptions struct {
	Root  string     // parent of MinIO's and the brokers' directories
	Bytes int64      // size of the cold data set
	Load  loadConfig // the main section's load, reused for produce and latency
	Log   *slog.Logger
}

// tieringEnv is the MinIO server and client one section run shares.
type tieringEnv struct {
	o     tieringOptions
	minio *harness.Minio
	s3    *mc.Client
	env   []string // AWS credentials for strata's s3 backend
}

func (e *tieringEnv) objstoreURL(prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&region=us-east-1", tierBucket, prefix, e.minio.URL())
}

// runTiering measures issue 3's bench targets against strata with a MinIO
// bucket. Without MinIO it returns a result that says why it skipped.
func runTiering(ctx context.Context, o tieringOptions) tieringResult {
	start := time.Now()
	res := tieringResult{Bytes: o.Bytes, SegmentBytes: tierSegmentBytes, LocalRetBytes: tierLocalRetBytes,
		RatePerSec: o.Load.Rate, Partitions: o.Load.Partitions, LatencyCacheBytes: tierLatencyCache}
	if _, err := harness.MinioBinary(); err != nil {
		res.Skipped = err.Error()
		return res
	}
	dir := filepath.Join(o.Root, "tiering")
	o.Log.Info("tiering: starting minio")
	m, err := harness.StartMinio(ctx, filepath.Join(dir, "minio"))
	if err != nil {
		res.Skipped = fmt.Sprintf("MinIO did not start: %v", err)
		return res
	}
	defer func() {
		if err := m.Stop(); err != nil {
			o.Log.Warn("stop minio", "err", err)
		}
	}()
	if err := m.CreateBucket(ctx, tierBucket); err != nil {
		res.Skipped = err.Error()
		return res
	}
	s3, err := m.Client()
	if err != nil {
		res.Skipped = fmt.Sprintf("minio client: %v", err)
		return res
	}
	e := &tieringEnv{o: o, minio: m, s3: s3, env: []string{
		"AWS_ACCESS_KEY_ID=" + m.AccessKey, "AWS_SECRET_ACCESS_KEY=" + m.SecretKey, "AWS_REGION=us-east-1",
	}}

	e.produceBoth(ctx, filepath.Join(dir, "produce"), &res)
	e.coldPhases(ctx, filepath.Join(dir, "cold"), &res)
	res.Elapsed = time.Since(start)
	return res
}

// produceBoth starts one strata with tiering off and one with it on and
// runs the main section's acks=1 throughput phase tierProduceRounds times
// on each, alternating (off, on, on, off, ...), into fresh topics with
// small segments. Every round starts from the same machine state: the
// previous "on" round's deferred uploads have drained (the wait is
// recorded, not hidden) and sync(2) has written back every dirty page, so
// a round does not pay for the writeback of the rounds before it (without
// this, each 1 GiB round after the first ran at half speed, on or off).
func (e *tieringEnv) produceBoth(ctx context.Context, dir string, res *tieringResult) {
	log := e.o.Log
	off, err := e.startProduceProc(ctx, filepath.Join(dir, "off"), "--tiering-disable")
	if err != nil {
		res.ProduceOff, res.ProduceOn = measure(produceResult{}, err), measure(produceResult{}, err)
		return
	}
	defer off.stop(log)
	// A short idle roll lets the backlog reach zero after a round (the
	// active segments too), so the drain wait has an end to wait for.
	on, err := e.startProduceProc(ctx, filepath.Join(dir, "on"), "--objstore", e.objstoreURL("tput"), "--tiering-idle-roll", "1s")
	if err != nil {
		res.ProduceOn = measure(produceResult{}, err)
		return
	}
	defer on.stop(log)
	res.ProduceWarmUp = []produceResult{off.warmUp, on.warmUp}
	var offSum, onSum produceResult
	var offErr, onErr error
	type side struct {
		p      *strataProc
		name   string
		sum    *produceResult
		rounds *[]produceResult
		err    *error
	}
	offSide := side{off.p, "off", &offSum, &res.ProduceOffRounds, &offErr}
	onSide := side{on.p, "on", &onSum, &res.ProduceOnRounds, &onErr}
	for round := range tierProduceRounds {
		// ABBA order (off, on, on, off, ...): a drift over the phase (the
		// first rounds of a run are the fastest here) falls on both sides.
		pair := []side{offSide, onSide}
		if round%2 == 1 {
			pair = []side{onSide, offSide}
		}
		for _, side := range pair {
			if *side.err != nil {
				continue
			}
			drain, err := waitUploadsDrained(ctx, on.p.HTTPAddr, 3*time.Minute)
			if err != nil {
				*side.err = err
				continue
			}
			if drain > 0 {
				res.UploadDrains = append(res.UploadDrains, drain)
			}
			syscall.Sync()
			pres, err := e.produceTopic(ctx, side.p.Addr, fmt.Sprintf("round%d", round), e.o.Load, false)
			log.Info("tiering: produced", "tiering", side.name, "round", round, "bytes", pres.Bytes, "MB/s", pres.MBps(), "err", err)
			*side.rounds = append(*side.rounds, pres)
			side.sum.Records += pres.Records
			side.sum.Bytes += pres.Bytes
			side.sum.Failed += pres.Failed
			side.sum.Elapsed += pres.Elapsed
			*side.err = err
		}
	}
	if drain, err := waitUploadsDrained(ctx, on.p.HTTPAddr, 3*time.Minute); err == nil && drain > 0 {
		res.UploadDrains = append(res.UploadDrains, drain)
	}
	res.ProduceOff, res.ProduceOn = measure(offSum, offErr), measure(onSum, onErr)
}

// produceProc is a strata of the produce phase.
type produceProc struct {
	p      *strataProc
	warmUp produceResult // the unmeasured first round
}

// startProduceProc starts a strata with flags and warms it up briefly.
func (e *tieringEnv) startProduceProc(ctx context.Context, dataDir string, flags ...string) (produceProc, error) {
	p, err := newStrataProc(dataDir, e.env)
	if err != nil {
		return produceProc{}, err
	}
	if err := p.Start(ctx, flags...); err != nil {
		return produceProc{}, err
	}
	// A whole unmeasured round: the first full round of a run has been up
	// to twice as fast as every later one here (on either side).
	pres, err := e.produceTopic(ctx, p.Addr, "warm-up", e.o.Load, false)
	if err != nil {
		e.o.Log.Warn("tiering: warm-up", "flags", flags, "bytes", pres.Bytes, "err", err)
	}
	return produceProc{p, pres}, nil
}

func (pp produceProc) stop(log *slog.Logger) {
	if err := pp.p.Stop(); err != nil {
		log.Warn("tiering: stop", "err", err)
	}
}

// waitUploadsDrained waits until strata's upload backlog is empty and
// returns how long that took (0 if it already was).
func waitUploadsDrained(ctx context.Context, httpAddr string, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for first := true; ; first = false {
		n, err := scrapeCounter(ctx, httpAddr, uploadBacklogMetric)
		if err == nil && n == 0 {
			if first {
				return 0, nil
			}
			return time.Since(start), nil
		}
		if time.Since(start) > limit {
			return time.Since(start), fmt.Errorf("uploads did not drain in %s (%s %.0f, err %v)", limit, uploadBacklogMetric, n, err)
		}
		select {
		case <-ctx.Done():
			return time.Since(start), ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// produceTopic runs the throughput phase with cfg into a fresh topic with
// small segments, deleting it afterwards if asked.
func (e *tieringEnv) produceTopic(ctx context.Context, addr, name string, cfg loadConfig, drop bool) (produceResult, error) {
	topic := fmt.Sprintf("tier-tput-%s-%d", name, time.Now().UnixNano())
	configs := map[string]*string{"segment.bytes": ptr(strconv.Itoa(tierSegmentBytes))}
	if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error {
		return createTopicWith(ctx, addr, topic, cfg.Partitions, configs)
	}); err != nil {
		return produceResult{}, err
	}
	var pres produceResult
	err := withTimeout(ctx, cfg.MaxDuration+2*time.Minute, func(ctx context.Context) (err error) {
		pres, err = runProduce(ctx, addr, topic, acksLeader, cfg)
		return err
	})
	if drop {
		_ = withTimeout(ctx, 30*time.Second, func(ctx context.Context) error { return deleteTopic(ctx, addr, topic) })
	}
	return pres, err
}

// coldPhases writes the cold data set, then measures reads of it (plain
// GETs, strata cold, strata warm) and produce latency with and without a
// cold reader.
func (e *tieringEnv) coldPhases(ctx context.Context, dataDir string, res *tieringResult) {
	log := e.o.Log
	fail := func(err error) {
		for _, m := range []*error{&res.Reference.Err, &res.Cold.Err, &res.Warm.Err, &res.LatencyBase.Err, &res.LatencyCold.Err} {
			if *m == nil {
				*m = err
			}
		}
	}
	p, err := newStrataProc(dataDir, e.env)
	if err != nil {
		fail(err)
		return
	}
	defer func() {
		if err := p.Stop(); err != nil {
			log.Warn("tiering: stop", "err", err)
		}
	}()
	base := []string{"--objstore", e.objstoreURL("cold"), "--tiering-idle-roll", "2s", "--log-retention-check-interval", "1s"}
	cache := func(n int, bytes int64) []string {
		return slices.Concat(base, []string{"--remote-cache-dir", filepath.Join(dataDir, fmt.Sprintf("cache-%d", n)),
			"--remote-cache-bytes", strconv.FormatInt(bytes, 10)})
	}
	bigCache := e.o.Bytes + e.o.Bytes/2 + 64<<20

	// The data set: one partition, produced as fast as strata takes it,
	// then left until only the last segments are local.
	if err := p.Start(ctx, cache(1, bigCache)...); err != nil {
		fail(err)
		return
	}
	const topic = "tier-cold"
	if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error {
		return createTopicWith(ctx, p.Addr, topic, 1, map[string]*string{
			"segment.bytes":         ptr(strconv.Itoa(tierSegmentBytes)),
			"local.retention.bytes": ptr(strconv.Itoa(tierLocalRetBytes)),
		})
	}); err != nil {
		fail(err)
		return
	}
	load := e.o.Load
	load.MaxBytes, load.MaxDuration = e.o.Bytes, 5*time.Minute
	log.Info("tiering: writing the cold data set", "bytes", e.o.Bytes)
	var pres produceResult
	if err := withTimeout(ctx, load.MaxDuration+time.Minute, func(ctx context.Context) (err error) {
		pres, err = runProduce(ctx, p.Addr, topic, acksLeader, load)
		return err
	}); err != nil {
		fail(fmt.Errorf("writing the cold data set: %w", err))
		return
	}
	localBound := int64(tierLocalRetBytes + tierSegmentBytes + 1<<20)
	if err := withTimeout(ctx, 3*time.Minute, func(ctx context.Context) (err error) {
		res.Uploaded, res.LocalLeft, err = waitTiered(ctx, e.s3, tierBucket, "cold/", dataDir, pres.Bytes, localBound)
		return err
	}); err != nil {
		fail(fmt.Errorf("%w\n%s", err, p.LogTail(10)))
		return
	}
	log.Info("tiering: data set in the bucket", "uploaded", res.Uploaded, "local", res.LocalLeft)

	// Reads: a fresh, empty chunk cache big enough to hold everything.
	if err := p.Start(ctx, cache(2, bigCache)...); err != nil {
		fail(err)
		return
	}
	// The plain GET read and the cold raw read run twice each, ABBA
	// (plain, cold, ..., cold, plain), summed: one ~2 s pass each was at
	// the mercy of this shared machine's drift.
	objs, objsErr := segmentObjects(ctx, e.s3, tierBucket, "cold/")
	plainRead := func() {
		e.dropCaches(res)
		err := objsErr
		var r readResult
		if err == nil {
			log.Info("tiering: plain GET read", "objects", len(objs))
			err = withTimeout(ctx, 5*time.Minute, func(ctx context.Context) (err error) {
				r, err = readObjectsPlain(ctx, e.s3, tierBucket, objs)
				return err
			})
		}
		res.ReferencePasses = append(res.ReferencePasses, r.MBps())
		res.Reference.Res.Objects += r.Objects
		res.Reference.Res.Bytes += r.Bytes
		res.Reference.Res.Elapsed += r.Elapsed
		res.Reference.Err = joinErr(res.Reference.Err, err)
		res.Reference.OK = res.Reference.Err == nil
	}
	plainRead()
	var cold2 measured[consumeResult]
	var cold2Fetched int64
	type pass struct {
		name    string
		m       *measured[consumeResult]
		fetched *int64
		read    func(ctx context.Context, addr, topic string, maxDur time.Duration) (consumeResult, error)
		restart []string // if set, first restart strata with a fresh, empty cache and these flags
	}
	var ignored int64
	passes := []pass{
		{"cold", &res.Cold, &res.BucketReadCold, rawConsume, nil},
		{"warm", &res.Warm, &res.BucketReadWarm, rawConsume, nil},
		{"warm, franz-go consumer", &res.WarmDecoded, &ignored, runConsume, nil},
		// Then a memory tier that holds the whole data set: its cold pass
		// fills it, the warm pass after it reads memory only.
		{"cold, franz-go consumer", &res.ColdDecoded, &ignored, runConsume,
			[]string{"--remote-cache-memory-bytes", strconv.FormatInt(bigCache, 10)}},
		{"warm, memory tier", &res.WarmMem, &res.BucketReadWarmMem, rawConsume, nil},
		// The second cold raw pass, from a fresh cache (default memory tier).
		{"cold 2", &cold2, &cold2Fetched, rawConsume, []string{}},
	}
	for i, ps := range passes {
		if ps.restart != nil {
			if err := p.Start(ctx, slices.Concat(cache(4+i, bigCache), ps.restart)...); err != nil {
				ps.m.Err = err
				continue
			}
		}
		// The broker's own count of bytes it read from the bucket shows the
		// cold pass really went to MinIO and the warm one did not.
		if strings.HasPrefix(ps.name, "cold") {
			e.dropCaches(res)
		}
		before, err0 := scrapeCounter(ctx, p.HTTPAddr, remoteReadMetric)
		diag := scrapeDiag(ctx, p.HTTPAddr)
		stopProfile := e.profilePass(ctx, p.HTTPAddr, ps.name)
		ps.m.Res, ps.m.Err = ps.read(ctx, p.Addr, topic, 5*time.Minute)
		stopProfile()
		e.logDiag(ps.name, diag, scrapeDiag(ctx, p.HTTPAddr))
		ps.m.OK = ps.m.Err == nil
		after, err1 := scrapeCounter(ctx, p.HTTPAddr, remoteReadMetric)
		if err := errors.Join(err0, err1); err != nil {
			res.BucketReadErr = err
		}
		*ps.fetched = int64(after - before)
		log.Info("tiering: strata read done", "pass", ps.name, "MB/s", ps.m.Res.MBps(), "bucket bytes", *ps.fetched, "err", ps.m.Err)
	}
	plainRead()
	res.ColdPasses = []float64{res.Cold.Res.MBps(), cold2.Res.MBps()}
	res.Cold.Res.Bytes += cold2.Res.Bytes
	res.Cold.Res.Records += cold2.Res.Records
	res.Cold.Res.Elapsed += cold2.Res.Elapsed
	res.Cold.Err = joinErr(res.Cold.Err, cold2.Err)
	res.Cold.OK = res.Cold.Err == nil
	res.BucketReadCold += cold2Fetched

	// Latency: a fresh cache far smaller than the data set, so the cold
	// reader never turns warm. Four phases in ABBA order (no reader,
	// reader, reader, no reader), each side's samples pooled: a drift of
	// this shared machine over the minute falls on both sides.
	if err := p.Start(ctx, cache(3, tierLatencyCache)...); err != nil {
		fail(err)
		return
	}
	var baseRuns, coldRuns []latencyResult
	var baseErr, coldErr error
	basePhase := func(name string) {
		times := watchProduceTimes(ctx, p.HTTPAddr)
		m := e.latency(ctx, p.Addr, name)
		res.BrokerProduceBase = res.BrokerProduceBase.plus(times())
		baseRuns, baseErr = append(baseRuns, m.Res), joinErr(baseErr, m.Err)
		res.LatencyPhasesP99.Base = append(res.LatencyPhasesP99.Base, m.Res.P99)
	}
	// An unmeasured phase first: the first one after a restart had the
	// worst p99 of the four in every run here, reader or not.
	_ = e.latency(ctx, p.Addr, "warm-up")
	for rep := range tierLatencyRepeats {
		basePhase(fmt.Sprintf("base-%d", 2*rep))
		coldErr = joinErr(coldErr, e.coldLatency(ctx, p, topic, res, &coldRuns, rep == 0))
		basePhase(fmt.Sprintf("base-%d", 2*rep+1))
	}
	res.LatencyBase = measure(pooledLatency(baseRuns...), baseErr)
	res.LatencyCold = measure(pooledLatency(coldRuns...), coldErr)
	if len(coldRuns) < 2*tierLatencyRepeats && coldErr == nil {
		res.LatencyCold = measure(latencyResult{}, errors.New("the cold latency phases did not run"))
	}
}

// coldLatency runs the two latency phases with a cold reader in its own
// process looping over the data set.
// With trace, the phases are traced (see traceLatency).
func (e *tieringEnv) coldLatency(ctx context.Context, p *strataProc, topic string, res *tieringResult, cold *[]latencyResult, trace bool) error {
	total, err := topicRecords(ctx, p.Addr, topic)
	if err != nil {
		return err
	}
	reader, err := startColdReaderProc(p.Addr, topic, total)
	if err != nil {
		return err
	}
	// Let the reader get going before the clock starts.
	for deadline := time.Now().Add(10 * time.Second); reader.Bytes() == 0 && time.Now().Before(deadline) && reader.Err() == nil; {
		time.Sleep(50 * time.Millisecond)
	}
	before, t0 := reader.Bytes(), time.Now()
	stopTrace := func() {}
	if trace {
		stopTrace = e.traceLatency(ctx, p.HTTPAddr)
	}
	var errs error
	for range 2 {
		name := fmt.Sprintf("cold-%d", len(*cold))
		times := watchProduceTimes(ctx, p.HTTPAddr)
		m := e.latency(ctx, p.Addr, name)
		res.BrokerProduceCold = res.BrokerProduceCold.plus(times())
		*cold, errs = append(*cold, m.Res), joinErr(errs, m.Err)
		res.LatencyPhasesP99.Cold = append(res.LatencyPhasesP99.Cold, m.Res.P99)
	}
	stopTrace()
	res.ReaderDuring.Bytes += reader.Bytes() - before
	res.ReaderDuring.Elapsed += time.Since(t0)
	if err := reader.Stop(); err != nil {
		return joinErr(errs, err)
	}
	if res.ReaderDuring.Bytes == 0 {
		return joinErr(errs, errors.New("the cold reader read nothing during the latency phases"))
	}
	return errs
}

// dropCaches writes back dirty pages and drops the page cache before a
// cold read, so MinIO serves the plain GETs and strata's cold passes from
// the disk alike (a read after another one of the same objects found them
// in the page cache: the second plain GET pass ran 50% faster than the
// first). It needs root; without it the report says the cache stayed.
func (e *tieringEnv) dropCaches(res *tieringResult) {
	syscall.Sync()
	err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0)
	if err != nil && res.DropCachesErr == nil {
		res.DropCachesErr = err
		e.o.Log.Warn("tiering: cannot drop the page cache before cold reads", "err", err)
	}
}

// latency runs the main section's fixed-rate acks=1 latency phase on a
// fresh topic.
func (e *tieringEnv) latency(ctx context.Context, addr, name string) measured[latencyResult] {
	cfg := e.o.Load
	topic := fmt.Sprintf("tier-lat-%s-%d", name, time.Now().UnixNano())
	if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error {
		return createTopic(ctx, addr, topic, cfg.Partitions)
	}); err != nil {
		return measure(latencyResult{}, err)
	}
	defer func() {
		_ = withTimeout(ctx, 30*time.Second, func(ctx context.Context) error { return deleteTopic(ctx, addr, topic) })
	}()
	// Write back what earlier phases left dirty first: 30 s after it was
	// written (vm.dirty_expire_centisecs) the kernel flushes it, and runs
	// here had every record stalled 250-430 ms for a second or more
	// while it did, reader or not.
	syscall.Sync()
	var lres latencyResult
	err := withTimeout(ctx, cfg.LatencyDur+2*time.Minute, func(ctx context.Context) (err error) {
		lres, err = runLatency(ctx, addr, topic, acksLeader, cfg)
		return err
	})
	if err == nil && lres.Samples == 0 {
		err = errors.New("no latency samples")
	}
	e.o.Log.Info("tiering: latency", "phase", name, "p99", lres.P99, "achieved MB/s", lres.AchievedMBps, "err", err, "stalls", lres.Stalls)
	return measure(lres, err)
}

func ptr[T any](v T) *T { return &v }
