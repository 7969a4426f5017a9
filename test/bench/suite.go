package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// target is a running broker under test.
type target struct {
	Name     string // "strata" or "kfake"
	Addr     string // Kafka listener
	HTTPAddr string // optional HTTP listener (pprof), "" if none
	Pid      int    // process whose VmHWM is reported
}

// suiteOptions are the per-run knobs beyond the workload.
type suiteOptions struct {
	Acks       []ackMode
	CPUProfile string // if set, profile the broker during its first produce phase
	Log        *slog.Logger
}

// runSuite runs, for every acks mode, the throughput phase, the consume
// phase and the latency phase against t, each on fresh topics, and returns
// one row per acks mode. Phase failures are recorded in the row, not
// returned, so one broken phase does not hide the others.
func runSuite(ctx context.Context, t target, cfg loadConfig, opts suiteOptions) []row {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	warmUp(ctx, t, cfg, log)
	var rows []row
	for i, acks := range opts.Acks {
		r := row{Broker: t.Name, Acks: acks}
		stamp := time.Now().UnixNano()
		tput := fmt.Sprintf("bench-tput-%s-%d", acks, stamp)
		lat := fmt.Sprintf("bench-lat-%s-%d", acks, stamp)

		log.Info("produce phase", "broker", t.Name, "acks", acks, "topic", tput)
		if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error {
			return createTopic(ctx, t.Addr, tput, cfg.Partitions)
		}); err != nil {
			r.Err = err
			rows = append(rows, finishRow(r, t))
			continue
		}
		var profDone chan error
		if i == 0 && opts.CPUProfile != "" {
			profDone = make(chan error, 1)
			go func() { profDone <- fetchProfile(ctx, t.HTTPAddr, cfg.MaxDuration, opts.CPUProfile) }()
		}
		var pres produceResult
		err := withTimeout(ctx, cfg.MaxDuration+2*time.Minute, func(ctx context.Context) (err error) {
			pres, err = runProduce(ctx, t.Addr, tput, acks, cfg)
			return err
		})
		r.Produce, r.producedOK = pres, err == nil
		log.Info("produced", "broker", t.Name, "acks", acks, "records", pres.Records, "bytes", pres.Bytes, "elapsed", pres.Elapsed, "MB/s", pres.MBps(), "err", err)
		if err != nil {
			r.Err = err
		}

		if pres.Records > 0 {
			log.Info("consume phase", "broker", t.Name, "acks", acks)
			cres, err := runConsume(ctx, t.Addr, tput, 2*cfg.MaxDuration+30*time.Second)
			r.Consume, r.consumedOK = cres, err == nil
			if err != nil {
				r.Err = joinErr(r.Err, err)
			}
		}
		_ = withTimeout(ctx, 30*time.Second, func(ctx context.Context) error { return deleteTopic(ctx, t.Addr, tput) })

		log.Info("latency phase", "broker", t.Name, "acks", acks, "topic", lat)
		if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error {
			return createTopic(ctx, t.Addr, lat, cfg.Partitions)
		}); err != nil {
			r.Err = joinErr(r.Err, err)
		} else {
			var lres latencyResult
			err := withTimeout(ctx, cfg.LatencyDur+2*time.Minute, func(ctx context.Context) (err error) {
				lres, err = runLatency(ctx, t.Addr, lat, acks, cfg)
				return err
			})
			r.Latency, r.latencyOK = lres, err == nil && lres.Samples > 0
			if err != nil {
				r.Err = joinErr(r.Err, err)
			}
			_ = withTimeout(ctx, 30*time.Second, func(ctx context.Context) error { return deleteTopic(ctx, t.Addr, lat) })
		}
		if profDone != nil {
			// The profile spans -duration from the start of the produce
			// phase, so it usually covers produce, consume and the start
			// of the latency phase; it has ended by now in most runs.
			if err := <-profDone; err != nil {
				log.Warn("cpu profile not taken", "err", err)
			} else {
				log.Info("cpu profile written", "path", opts.CPUProfile)
			}
		}
		rows = append(rows, finishRow(r, t))
	}
	return rows
}

// warmUp runs two short unmeasured produce rounds on throwaway topics so
// the first measured phase does not pay for a cold process (heap growth,
// first page faults, connection set-up). Each round writes the volume of a
// measured phase (capped in time): a broker that keeps data in memory
// (kfake) is only at steady state once its heap has grown past that volume
// and been collected once; with a single round the first row of kfake still
// read about half of the second.
func warmUp(ctx context.Context, t target, cfg loadConfig, log *slog.Logger) {
	w := cfg
	w.MaxDuration = min(cfg.MaxDuration/2, 8*time.Second)
	for round := range 2 {
		topic := fmt.Sprintf("bench-warmup-%d-%d", round, time.Now().UnixNano())
		if err := withTimeout(ctx, time.Minute, func(ctx context.Context) error {
			return createTopic(ctx, t.Addr, topic, cfg.Partitions)
		}); err != nil {
			log.Warn("warm-up topic", "err", err)
			return
		}
		var res produceResult
		err := withTimeout(ctx, w.MaxDuration+2*time.Minute, func(ctx context.Context) (err error) {
			res, err = runProduce(ctx, t.Addr, topic, acksLeader, w)
			return err
		})
		log.Info("warm-up produced", "broker", t.Name, "round", round, "bytes", res.Bytes, "elapsed", res.Elapsed, "MB/s", res.MBps(), "err", err)
		_ = withTimeout(ctx, 30*time.Second, func(ctx context.Context) error { return deleteTopic(ctx, t.Addr, topic) })
	}
}

func finishRow(r row, t target) row {
	if t.Pid > 0 {
		if rss, err := peakRSS(t.Pid); err == nil {
			r.PeakRSS = rss
		} else {
			r.Err = joinErr(r.Err, err)
		}
	}
	return r
}

func joinErr(a, b error) error {
	if a == nil {
		return b
	}
	return fmt.Errorf("%w; %w", a, b)
}

func withTimeout(ctx context.Context, d time.Duration, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return fn(ctx)
}

// fetchProfile takes a CPU profile of length d from the broker's
// /debug/pprof/profile endpoint and writes it to path.
func fetchProfile(ctx context.Context, httpAddr string, d time.Duration, path string) error {
	return fetchDebug(ctx, httpAddr, "profile", d, path)
}

// fetchDebug saves strata's /debug/pprof/<kind> (profile or trace) taken
// over d to path.
func fetchDebug(ctx context.Context, httpAddr, kind string, d time.Duration, path string) error {
	if httpAddr == "" {
		return fmt.Errorf("broker has no HTTP address")
	}
	secs := max(1, int(d.Seconds()))
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", httpAddr, kind, secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("profile request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("get %s: status %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create profile file: %w", err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close profile: %w", err)
	}
	return nil
}
