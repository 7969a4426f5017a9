package partlog

import (
	"context"
	"fmt"
	"sync"
)

// durability tracks what has been fsynced and runs group commit: at most
// one fsync round at a time; waiters that arrive during a round wait for it
// to end and then one of them runs the next round for all of them.
type durability struct {
	mu         sync.Mutex
	durableEnd int64         // every offset below this is on stable storage
	syncing    bool          // a round is running
	round      chan struct{} // closed when the running round ends
	err        error         // sticky failure (fsync error or closed)
}

func (d *durability) init(end int64) { d.durableEnd = end }

func (d *durability) fail(err error) {
	d.mu.Lock()
	if d.err == nil {
		d.err = err
	}
	d.mu.Unlock()
}

// WaitDurable blocks until every byte up to and including offset has been
// fsynced (segment data and new directory entries). Concurrent callers share
// fsyncs (group commit), and appends continue while an fsync runs. offset
// must already be appended (< LogEndOffset).
func (l *Log) WaitDurable(ctx context.Context, offset int64) error {
	l.mu.Lock()
	closed, end := l.closed, l.logEnd
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if offset >= end {
		return fmt.Errorf("%w: offset %d not yet appended (log end %d)", ErrOffsetOutOfRange, offset, end)
	}
	d := &l.dur
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d.mu.Lock()
		if d.err != nil {
			err := d.err
			d.mu.Unlock()
			return err
		}
		if offset < d.durableEnd {
			d.mu.Unlock()
			return nil
		}
		if !d.syncing {
			d.syncing = true
			round := make(chan struct{})
			d.round = round
			d.mu.Unlock()

			end, err := l.syncRound()

			d.mu.Lock()
			if err != nil && d.err == nil {
				d.err = err
			}
			if err == nil && end > d.durableEnd {
				d.durableEnd = end
			}
			d.syncing = false
			close(round)
			d.mu.Unlock()
			continue
		}
		round := d.round
		d.mu.Unlock()
		select {
		case <-round:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// syncRound fsyncs every segment with unsynced bytes, and the directory if
// segments were created, without holding l.mu during the fsyncs. It returns
// the log end that is now durable.
func (l *Log) syncRound() (int64, error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	if l.writeErr != nil {
		err := l.writeErr
		l.mu.Unlock()
		return 0, err
	}
	end, gen := l.logEnd, l.truncGen
	type job struct {
		s    *segment
		size int64
	}
	var jobs []job
	for _, s := range l.segs {
		if s.synced < s.size {
			s.acquire()
			jobs = append(jobs, job{s, s.size})
		}
	}
	dirDirty := l.dirDirty
	l.dirDirty = false
	l.mu.Unlock()

	l.fsyncs.Add(1)
	var err error
	for _, j := range jobs {
		if e := j.s.log.Sync(); e != nil && err == nil {
			err = fmt.Errorf("partlog: fsync segment %d: %w", j.s.base, e)
		}
	}
	if err == nil && dirDirty {
		if e := l.fs.SyncDir(l.dir); e != nil {
			err = fmt.Errorf("partlog: fsync dir: %w", e)
		}
	}

	l.mu.Lock()
	if err != nil {
		if l.writeErr == nil {
			l.writeErr = err
		}
		l.dirDirty = l.dirDirty || dirDirty
	} else {
		if gen == l.truncGen {
			for _, j := range jobs {
				j.s.synced = max(j.s.synced, j.size)
			}
		} else {
			end = 0 // the log was truncated meanwhile: claim nothing, waiters retry
		}
	}
	l.mu.Unlock()
	for _, j := range jobs {
		j.s.release()
	}
	return end, err
}
