package remote

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// metrics of one Reader. The chunk-cache hit ratio is
// hits / (hits + misses).
type metrics struct {
	remoteBytes     prometheus.Counter
	getDuration     *prometheus.HistogramVec
	getErrors       *prometheus.CounterVec
	cacheHits       prometheus.Counter
	cacheMisses     prometheus.Counter
	cacheBytes      prometheus.Gauge
	cacheEvictions  prometheus.Counter
	memHits         prometheus.Counter
	cacheWriteDrops prometheus.Counter
	indexHits       prometheus.Counter
	indexMisses     prometheus.Counter
	readWait        prometheus.Histogram
	readsInFlight   prometheus.Gauge
	servedBytes     prometheus.Counter
	corrupt         prometheus.Counter
	readAhead       prometheus.Counter
	checksummed     prometheus.Counter
	cacheWriteSkips prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := promauto.With(reg)
	return &metrics{
		cacheWriteSkips: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_chunk_cache_write_skips_total",
			Help: "Fetched chunks kept in memory only, not written to the disk cache, because producers were busy.",
		}),
		checksummed: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_checksummed_bytes_total",
			Help: "Bytes of remote record batches whose CRC-32C was computed; batches already checked against the chunk buffers in memory are not checked again.",
		}),
		remoteBytes: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_read_bytes_total", Help: "Bytes read from object storage by cold reads (chunks, footers, indexes).",
		}),
		getDuration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name: "strata_remote_get_duration_seconds", Help: "Latency of ranged GETs of cold reads, by kind (chunk, meta).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"kind"}),
		getErrors: f.NewCounterVec(prometheus.CounterOpts{
			Name: "strata_remote_get_errors_total", Help: "Failed ranged GETs of cold reads, by kind (chunk, meta).",
		}, []string{"kind"}),
		cacheHits: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_chunk_cache_hits_total", Help: "Chunk lookups served from the on-disk chunk cache.",
		}),
		cacheMisses: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_chunk_cache_misses_total", Help: "Chunk lookups that had to wait for a GET (their own or a shared one).",
		}),
		cacheBytes: f.NewGauge(prometheus.GaugeOpts{
			Name: "strata_remote_chunk_cache_bytes", Help: "Bytes held by the on-disk chunk cache.",
		}),
		cacheEvictions: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_chunk_cache_evictions_total", Help: "Chunks evicted from the on-disk chunk cache.",
		}),
		memHits: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_chunk_memory_hits_total", Help: "Chunk cache hits served from memory (recent chunks, and chunks not yet written to disk).",
		}),
		cacheWriteDrops: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_chunk_cache_write_drops_total", Help: "Fetched chunks not cached on disk: the write queue was full or the write failed.",
		}),
		indexHits: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_index_cache_hits_total", Help: "Segment footer/index lookups served from memory.",
		}),
		indexMisses: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_index_cache_misses_total", Help: "Segment footer/index lookups that read object storage.",
		}),
		readWait: f.NewHistogram(prometheus.HistogramOpts{
			Name: "strata_remote_read_pool_wait_seconds", Help: "Time cold reads waited for a slot in the cold-read pool.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}),
		readsInFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "strata_remote_reads_in_flight", Help: "Cold reads holding a slot in the cold-read pool.",
		}),
		servedBytes: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_served_bytes_total", Help: "Record batch bytes returned by cold reads.",
		}),
		corrupt: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_corrupt_reads_total", Help: "Cold reads that failed a checksum or consistency check.",
		}),
		readAhead: f.NewCounter(prometheus.CounterOpts{
			Name: "strata_remote_read_ahead_chunks_total", Help: "Chunks fetched by read-ahead.",
		}),
	}
}
