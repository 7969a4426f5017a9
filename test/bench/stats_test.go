package main

import (
	"sync"
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 1000; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.50, 500 * time.Millisecond},
		{0.99, 990 * time.Millisecond},
		{0.999, 999 * time.Millisecond},
		{1, 1000 * time.Millisecond},
		{0.0001, 1 * time.Millisecond},
	} {
		if got := percentile(s, tc.q); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of no samples = %v, want 0", got)
	}
	if got := percentile([]time.Duration{7}, 0.999); got != 7 {
		t.Errorf("percentile of one sample = %v, want 7", got)
	}
}

func TestLatenciesConcurrentAddAndOverflow(t *testing.T) {
	l := newLatencies(100)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 30 {
				l.add(time.Duration(g*30 + i))
			}
		})
	}
	wg.Wait()
	s := l.sorted()
	if len(s) != 100 {
		t.Fatalf("kept %d samples, want 100", len(s))
	}
	if d := l.dropped.Load(); d != 20 {
		t.Fatalf("dropped %d, want 20", d)
	}
	for i := 1; i < len(s); i++ {
		if s[i] < s[i-1] {
			t.Fatalf("not sorted at %d: %v < %v", i, s[i], s[i-1])
		}
	}
}

func TestMBps(t *testing.T) {
	if got := mbps(50_000_000, 2*time.Second); got != 25 {
		t.Fatalf("mbps = %v, want 25", got)
	}
	if got := mbps(1, 0); got != 0 {
		t.Fatalf("mbps over zero time = %v, want 0", got)
	}
}
