package partlog

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestWaitDurableGroupCommit(t *testing.T) {
	m := newMemFS()
	m.syncDelay = 5 * time.Millisecond
	l := openMem(t, m, Config{SegmentBytes: 20_000})
	defer l.Close()
	const waiters = 200
	var wg sync.WaitGroup
	errs := make(chan error, waiters)
	start := make(chan struct{})
	for i := 0; i < waiters; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r, err := l.Append(makeBatch(plainBatch(1, int64(i))), 0)
			if err != nil {
				errs <- err
				return
			}
			if err := l.WaitDurable(context.Background(), r.LastOffset); err != nil {
				errs <- err
				return
			}
			// Durable means: the bytes of this batch are in the synced image.
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, s := range l.segs {
				if s.base <= r.BaseOffset && r.BaseOffset < s.next && s.synced < s.size && s.synced == 0 {
					errs <- errors.New("batch reported durable but its segment was never synced")
				}
			}
		}(i)
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	fsyncs := l.FsyncCount()
	t.Logf("%d waiters, %d fsync rounds, %d segments", waiters, fsyncs, len(l.segs))
	if fsyncs < 1 || fsyncs > waiters/4 {
		t.Fatalf("group commit: %d fsync rounds for %d waiters", fsyncs, waiters)
	}
	// Everything acknowledged survives a crash.
	crashed := m.crash(0)
	l2 := openMem(t, crashed, Config{SegmentBytes: 20_000})
	defer l2.Close()
	if l2.LogEndOffset() != waiters {
		t.Fatalf("after crash: end %d, want %d", l2.LogEndOffset(), waiters)
	}
}

func TestWaitDurableDoesNotBlockAppends(t *testing.T) {
	m := newMemFS()
	m.syncDelay = 200 * time.Millisecond
	l := openMem(t, m, Config{})
	defer l.Close()
	r := mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)
	done := make(chan error, 1)
	go func() { done <- l.WaitDurable(context.Background(), r.LastOffset) }()
	time.Sleep(20 * time.Millisecond) // let the fsync start
	t0 := time.Now()
	for i := 0; i < 10; i++ {
		mustAppend(t, l, makeBatch(plainBatch(1, 1)), 0)
	}
	if _, err := l.Read(0, 1000); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(t0); el > 100*time.Millisecond {
		t.Fatalf("appends blocked behind fsync for %v", el)
	}
	// A waiter with a cancelled context gives up without waiting for the round.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.WaitDurable(ctx, 5); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := l.WaitDurable(context.Background(), 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("wait for unappended offset: %v", err)
	}
}
