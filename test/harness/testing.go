package harness

import (
	"context"
	"testing"
)

// StartT starts the broker under test for t, using t.TempDir() as data
// directory when none is given. Cleanup stops it (an unclean exit fails the
// test) and, if the test failed, logs the broker's log tail.
func StartT(t testing.TB, opts Options) *Broker {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	b, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stop broker: %v", err)
		}
		if t.Failed() {
			t.Logf("broker %s (data %s) log tail:\n%s", b.Addr, b.DataDir, b.LogTail(80))
		}
	})
	return b
}
