package harness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
// It is chosen below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range), so the outgoing connections of other
// processes (other tests, etcd peers, MinIO) cannot take it between now
// and the moment the caller's server binds it, as a port from
// "127.0.0.1:0" could. A port is never handed out twice by one process.
func FreePort() (int, error) {
	lo := ephemeralLow()
	for range 200 {
		p := freePortLow + rand.IntN(lo-freePortLow)
		if !claimPort(p) {
			continue
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		ln.Close()
		return p, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("harness: free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// freePortLow is the lowest port FreePort picks: above the well-known
// and most registered service ports.
const freePortLow = 20000

var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{}
)

// claimPort records p as handed out; false if it already was.
func claimPort(p int) bool {
	portsMu.Lock()
	defer portsMu.Unlock()
	if portsUsed[p] {
		return false
	}
	portsUsed[p] = true
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// if it cannot be read or leaves no room below it).
func ephemeralLow() int {
	const fallback = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return fallback
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return fallback
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil || lo < freePortLow+1000 {
		return fallback
	}
	return lo
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
