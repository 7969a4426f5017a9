package upload

import (
	"context"
	"time"
)

// activityTick is how often the uploader samples the tracked logs' ends.
const activityTick = 100 * time.Millisecond

// watchActivity notes when any tracked partition last grew, so uploads
// can yield to produce (see Config.DeferWhileBusyBytes).
func (u *Uploader) watchActivity(ctx context.Context) {
	defer close(u.activityDone)
	t := time.NewTicker(activityTick)
	defer t.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var sum int64
		for _, tr := range u.tracked() {
			sum += tr.p.Log().LogEndOffset()
		}
		if sum != last {
			last = sum
			u.lastAppend.Store(u.cfg.Now().UnixNano())
		}
	}
}

// Busy reports whether a tracked partition took appends within the last
// Config.BusyWindow: produce is running. The remote reader uses it too,
// to pace cold reads.
func (u *Uploader) Busy() bool {
	at := u.lastAppend.Load()
	return at != 0 && u.cfg.Now().Sub(time.Unix(0, at)) < u.cfg.BusyWindow
}

// deferUpload reports whether sealed segments should wait: produce is
// busy and the backlog is under Config.DeferWhileBusyBytes. Uploading
// competes with produce for CPU (and, with a store on the same machine,
// the store's too); deferring moves it into the pauses, with the local
// backlog as the bound. Flush never defers.
func (u *Uploader) deferUpload() bool {
	if u.cfg.DeferWhileBusyBytes < 0 || u.flushing.Load() > 0 || !u.Busy() {
		return false
	}
	return u.Backlog() < u.cfg.DeferWhileBusyBytes
}
