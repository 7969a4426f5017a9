package remote

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/fs"
)

// BenchmarkRead reads 256 MiB of remote segments (STRATA_REMOTE_BENCH_MIB
// overrides) from an fs bucket with 1 MiB fetches: cold (empty chunk
// cache, a new Reader per pass), warm (every chunk cached), and, as the
// reference, plain sequential 4 MiB ranged GETs of the same objects.
// Each reports MB/s.
func BenchmarkRead(b *testing.B) {
	mib := 256
	if v, err := strconv.Atoi(os.Getenv("STRATA_REMOTE_BENCH_MIB")); err == nil && v > 0 {
		mib = v
	}
	total := int64(mib) << 20
	bucket, err := fs.New(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	manifest := newFakeManifest()
	const segBytes = 64 << 20
	batch := func(i int) (int32, int, int64) { return 100, 256<<10 - batchHeaderSize, int64(i) }
	var base, logBytes int64
	var segs []Segment
	for logBytes < total {
		n := int(min(segBytes, total-logBytes) / (256 << 10))
		s := buildSegment(b, 0, base, max(n, 1), 4096, batch)
		if err := bucket.Upload(context.Background(), s.seg.Object, bytes.NewReader(s.obj)); err != nil {
			b.Fatal(err)
		}
		manifest.put(s.seg, false)
		segs = append(segs, s.seg)
		base = s.seg.LastOffset + 1
		logBytes += int64(n) * (256 << 10)
	}
	newReader := func(b *testing.B) *Reader {
		r, err := New(Config{CacheDir: b.TempDir(), CacheBytes: 2 * total}, bucket, manifest, slog.New(slog.DiscardHandler), nil)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	readAll := func(b *testing.B, r *Reader) {
		var read int64
		for o := int64(0); ; {
			data, err := r.Read(context.Background(), testTopic, 0, o, 1<<20)
			if errors.Is(err, ErrNotRemote) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			read += int64(len(data))
			o = lastOffsetOfB(b, data) + 1
		}
		if read != logBytes {
			b.Fatalf("read %d bytes, want %d", read, logBytes)
		}
	}
	b.Run("cold", func(b *testing.B) {
		b.SetBytes(logBytes)
		for range b.N {
			b.StopTimer()
			r := newReader(b)
			b.StartTimer()
			readAll(b, r)
			b.StopTimer()
			_ = r.Close()
			b.StartTimer()
		}
	})
	b.Run("warm", func(b *testing.B) {
		r := newReader(b)
		defer r.Close()
		readAll(b, r)
		b.SetBytes(logBytes)
		b.ResetTimer()
		for range b.N {
			readAll(b, r)
		}
	})
	b.Run("rangeget-reference", func(b *testing.B) {
		b.SetBytes(logBytes)
		buf := make([]byte, 4<<20)
		for range b.N {
			for _, s := range segs {
				for off := int64(0); off < s.Size; off += int64(len(buf)) {
					if err := getInto(bucket, s.Object, off, buf); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	})
}

func getInto(bucket objstore.Bucket, name string, off int64, buf []byte) error {
	rc, err := bucket.GetRange(context.Background(), name, off, int64(len(buf)))
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.ReadFull(rc, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return err
}

func lastOffsetOfB(b *testing.B, data []byte) int64 {
	last := int64(-1)
	for p := 0; p < len(data); {
		h, err := parseHeader("bench", data[p:], int64(p), int64(len(data)-p))
		if err != nil {
			b.Fatal(err)
		}
		last = h.last
		p += int(h.total)
	}
	return last
}
