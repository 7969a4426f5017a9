package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The latency phase's cold reader runs in a child process of the bench
// (the bench binary run as `cold-reader <addr> <topic> <records>`), as a
// historical consumer runs on its own machine: in the producer's process
// its allocations, GC and CPU would count as broker latency (strata's own
// request timings showed the tail was not in the broker).
const coldReaderCmd = "cold-reader"

// coldReaderMain is the child: it reads until SIGTERM, printing "bytes N"
// every 100 ms and once at the end, and "error MSG" if the reader fails.
func coldReaderMain(args []string) int {
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: bench cold-reader <addr> <topic> <records>")
		return 2
	}
	total, err := strconv.ParseInt(args[2], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench cold-reader: records:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var r coldReader
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx, args[0], args[1], total)
	}()
	out := bufio.NewWriter(os.Stdout)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for running := true; running; {
		select {
		case <-t.C:
		case <-done:
			running = false
		}
		fmt.Fprintf(out, "bytes %d\n", r.bytes.Load())
		_ = out.Flush()
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(out, "error %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	_ = out.Flush()
	return 0
}

// coldReaderProc is the parent's handle on the child.
type coldReaderProc struct {
	cmd   *exec.Cmd
	bytes atomic.Int64
	mu    sync.Mutex
	err   error
	lines chan struct{} // closed when stdout ends
}

func startColdReaderProc(addr, topic string, total int64) (*coldReaderProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cold reader process: %w", err)
	}
	cmd := exec.Command(self, coldReaderCmd, addr, topic, strconv.FormatInt(total, 10))
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("cold reader process: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cold reader process: %w", err)
	}
	p := &coldReaderProc{cmd: cmd, lines: make(chan struct{})}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			l := sc.Text()
			if n, ok := strings.CutPrefix(l, "bytes "); ok {
				if v, err := strconv.ParseInt(n, 10, 64); err == nil {
					p.bytes.Store(v)
				}
			} else if msg, ok := strings.CutPrefix(l, "error "); ok {
				p.mu.Lock()
				p.err = errors.New(msg)
				p.mu.Unlock()
			}
		}
	}()
	return p, nil
}

// Bytes is what the child has read so far.
func (p *coldReaderProc) Bytes() int64 { return p.bytes.Load() }

// Err is the child's reader error, if it reported one.
func (p *coldReaderProc) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Stop ends the child and returns its reader error or unclean exit.
func (p *coldReaderProc) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	<-p.lines
	werr := p.cmd.Wait()
	if err := p.Err(); err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("cold reader process: %w", werr)
	}
	return nil
}
