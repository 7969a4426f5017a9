package harness

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Pause freezes the broker process with SIGSTOP: its sockets stay open but
// it answers nothing and its etcd lease stops being renewed, like a hung
// machine. Stop and Kill still work on a paused broker after Resume; Stop
// of a paused process waits until StopTimeout, so resume it first.
func (b *Broker) Pause() error { return b.signal(syscall.SIGSTOP) }

// Resume continues a paused broker process with SIGCONT. Resuming a
// running, not paused, process is harmless.
func (b *Broker) Resume() error { return b.signal(syscall.SIGCONT) }

func (b *Broker) signal(sig syscall.Signal) error {
	b.mu.Lock()
	cmd, done := b.Cmd, b.done
	b.mu.Unlock()
	if cmd == nil || done == nil {
		return ErrNotRunning
	}
	select {
	case <-done:
		return ErrNotRunning
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil {
		if errors.Is(err, os.ErrProcessDone) {
			return ErrNotRunning
		}
		return fmt.Errorf("harness: signal %v to %d: %w", sig, cmd.Process.Pid, err)
	}
	return nil
}
