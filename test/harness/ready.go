package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("harness: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Ping does one Kafka ApiVersions round trip against addr.
func Ping(ctx context.Context, addr string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RequestRetries(0), kgo.DialTimeout(2*time.Second))
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	defer cl.Close()
	rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(rctx, cl)
	if err != nil {
		return fmt.Errorf("api versions: %w", err)
	}
	if resp.ErrorCode != 0 {
		return fmt.Errorf("api versions error code %d", resp.ErrorCode)
	}
	if len(resp.ApiKeys) == 0 {
		return errors.New("api versions: empty key list")
	}
	return nil
}

// waitReady polls until addr answers ApiVersions (and, when httpAddr is set and
// serves /readyz, that answers below 500), the process exits, or the timeout.
func waitReady(ctx context.Context, addr, httpAddr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, ReadyTimeout)
	defer cancel()
	var last error
	for {
		select {
		case <-exited:
			return errors.New("process exited during startup")
		default:
		}
		if last = Ping(ctx, addr); last == nil {
			if last = httpReady(ctx, httpAddr); last == nil {
				return nil
			}
		}
		select {
		case <-exited:
			return errors.New("process exited during startup")
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// httpReady is nil unless /readyz exists and reports a server error (not ready).
// A missing HTTP listener or a 404 counts as ready: Kafka readiness is what matters.
func httpReady(ctx context.Context, httpAddr string) error {
	if httpAddr == "" {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, "http://"+httpAddr+"/readyz", nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("/readyz: %s", resp.Status)
	}
	return nil
}
