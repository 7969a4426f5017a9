package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	mc "github.com/minio/minio-go/v7"
)

// referenceChunk is the size of each ranged GET of the plain reference read.
const referenceChunk = 4 << 20

// segmentObjects lists the segment objects (*.seg) under prefix, sorted by
// key, which within one partition is base-offset order.
func segmentObjects(ctx context.Context, s3 *mc.Client, bucket, prefix string) ([]mc.ObjectInfo, error) {
	var out []mc.ObjectInfo
	for o := range s3.ListObjects(ctx, bucket, mc.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, o.Err)
		}
		if strings.HasSuffix(o.Key, ".seg") {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b mc.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func objectBytes(objs []mc.ObjectInfo) int64 {
	var n int64
	for _, o := range objs {
		n += o.Size
	}
	return n
}

// readObjectsPlain reads every object whole with one reader, in sequential
// ranged GETs of referenceChunk bytes: what a client of the store alone
// gets, the reference for the cold read through strata.
func readObjectsPlain(ctx context.Context, s3 *mc.Client, bucket string, objs []mc.ObjectInfo) (readResult, error) {
	var res readResult
	start := time.Now()
	for _, o := range objs {
		for off := int64(0); off < o.Size; off += referenceChunk {
			end := min(off+referenceChunk, o.Size) - 1
			opts := mc.GetObjectOptions{}
			if err := opts.SetRange(off, end); err != nil {
				return res, fmt.Errorf("range %d-%d: %w", off, end, err)
			}
			obj, err := s3.GetObject(ctx, bucket, o.Key, opts)
			if err != nil {
				return res, fmt.Errorf("get %s: %w", o.Key, err)
			}
			n, err := io.Copy(io.Discard, obj)
			obj.Close()
			res.Bytes += n
			if err != nil {
				return res, fmt.Errorf("read %s at %d: %w", o.Key, off, err)
			}
			if n != end-off+1 {
				return res, fmt.Errorf("read %s at %d: got %d bytes, want %d", o.Key, off, n, end-off+1)
			}
		}
		res.Objects++
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// localLogBytes sums the *.log files under the broker's data directory.
func localLogBytes(dataDir string) int64 {
	var total int64
	_ = filepath.WalkDir(filepath.Join(dataDir, "logs"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".log") {
			return nil
		}
		if info, err := d.Info(); err == nil {
			total += info.Size()
		}
		return nil
	})
	return total
}

// waitTiered waits until at most localBound bytes of log are left on the
// broker's disk and the bucket holds segment objects for the rest of
// produced bytes, i.e. the data set is (nearly) only in object storage.
func waitTiered(ctx context.Context, s3 *mc.Client, bucket, prefix, dataDir string, produced, localBound int64) (uploaded, local int64, err error) {
	for {
		local = localLogBytes(dataDir)
		objs, lerr := segmentObjects(ctx, s3, bucket, prefix)
		uploaded = objectBytes(objs)
		if lerr == nil && local <= localBound && uploaded >= produced-localBound {
			return uploaded, local, nil
		}
		select {
		case <-ctx.Done():
			return uploaded, local, fmt.Errorf("waiting for the data to tier (%d MiB uploaded of %d MiB produced, %d MiB local, bound %d MiB): %w",
				uploaded>>20, produced>>20, local>>20, localBound>>20, errors.Join(ctx.Err(), lerr))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// coldReader reads partition 0 of topic from the start over and over with
// the raw Fetch reader until ctx ends, counting the record-batch bytes it
// gets: a historical consumer that keeps the cold path busy. It runs in
// the bench process next to the latency producer, so it must not decode
// records: a decoding consumer's allocations and GC would slow the
// producer's own goroutines and count as broker latency.
type coldReader struct {
	bytes, records atomic.Int64
	err            atomic.Pointer[error]
}

func (c *coldReader) run(ctx context.Context, addr, topic string, total int64) {
	for ctx.Err() == nil {
		if err := c.pass(ctx, addr, topic, total); err != nil && ctx.Err() == nil {
			c.err.CompareAndSwap(nil, &err)
			return
		}
	}
}

// pass reads total records of topic once from offset 0.
func (c *coldReader) pass(ctx context.Context, addr, topic string, total int64) error {
	err := readRaw(ctx, addr, topic, total, func(bytes, records int64) {
		c.bytes.Add(bytes)
		c.records.Add(records)
	})
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cold reader: %w", err)
	}
	return nil
}

// Err is the first error that stopped the reader, if any.
func (c *coldReader) Err() error {
	if p := c.err.Load(); p != nil {
		return *p
	}
	return nil
}

// scrapeCounter sums every series of one metric on a Prometheus text
// endpoint (http://httpAddr/metrics).
func scrapeCounter(ctx context.Context, httpAddr, name string) (float64, error) {
	text, err := scrapeMetrics(ctx, httpAddr)
	if err != nil {
		return 0, err
	}
	return sumMetric(text, name)
}

// scrapeMetrics returns strata's /metrics text.
func scrapeMetrics(ctx context.Context, httpAddr string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+httpAddr+"/metrics", nil)
	if err != nil {
		return "", fmt.Errorf("metrics request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("get metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("get metrics: status %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read metrics: %w", err)
	}
	return string(body), nil
}

// sumMetric sums the samples of metric name in Prometheus text format.
func sumMetric(text, name string) (float64, error) {
	var sum float64
	found := false
	for _, l := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(l, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		if i := strings.LastIndexByte(rest, '}'); i >= 0 {
			rest = rest[i+1:]
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, fmt.Errorf("metric %s: %w", name, err)
		}
		sum += v
		found = true
	}
	if !found {
		return 0, fmt.Errorf("metric %s not exported", name)
	}
	return sum, nil
}

// produceSlow is the broker's own count of Produce requests in a phase
// and of those that took longer than produceSlowBound (arrival to response
// written, strata_request_duration_seconds), telling the broker's share of
// a latency tail from the client's and the machine's.
type produceSlow struct {
	Requests, Slow float64
	Err            error
}

// plus adds another phase's counts.
func (a produceSlow) plus(b produceSlow) produceSlow {
	return produceSlow{Requests: a.Requests + b.Requests, Slow: a.Slow + b.Slow, Err: errors.Join(a.Err, b.Err)}
}

const produceSlowBound = "0.025" // a bucket bound of the histogram, seconds

// scrapeProduceTimes reads the Produce request count and the count at or
// under produceSlowBound.
func scrapeProduceTimes(ctx context.Context, httpAddr string) (total, fast float64, err error) {
	text, err := scrapeMetrics(ctx, httpAddr)
	if err != nil {
		return 0, 0, err
	}
	var okTotal, okFast bool
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) != 2 || !strings.Contains(f[0], `api="Produce"`) {
			continue
		}
		v, perr := strconv.ParseFloat(f[1], 64)
		if perr != nil {
			continue
		}
		switch {
		case strings.HasPrefix(f[0], "strata_request_duration_seconds_count{"):
			total, okTotal = v, true
		case strings.HasPrefix(f[0], "strata_request_duration_seconds_bucket{") && strings.Contains(f[0], `le="`+produceSlowBound+`"`):
			fast, okFast = v, true
		}
	}
	if !okTotal || !okFast {
		return 0, 0, errors.New("strata_request_duration_seconds for Produce not exported")
	}
	return total, fast, nil
}

// watchProduceTimes scrapes before a phase; the returned func scrapes
// after it and returns the difference.
func watchProduceTimes(ctx context.Context, httpAddr string) func() produceSlow {
	t0, f0, err0 := scrapeProduceTimes(ctx, httpAddr)
	return func() produceSlow {
		t1, f1, err1 := scrapeProduceTimes(ctx, httpAddr)
		if err := errors.Join(err0, err1); err != nil {
			return produceSlow{Err: err}
		}
		return produceSlow{Requests: t1 - t0, Slow: (t1 - t0) - (f1 - f0)}
	}
}
