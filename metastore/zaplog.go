package metastore

import (
	"context"
	"log/slog"
	"sync/atomic"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// slogCore forwards etcd's zap logs to our slog.Logger, dropping entries
// below min. While quiet is set (during shutdown, when etcd reports every
// closed listener as an error) everything is logged at debug level.
type slogCore struct {
	logger *slog.Logger
	min    zapcore.Level
	quiet  *atomic.Bool
	demote map[string]bool // messages known to be harmless: logged at debug
	attrs  []slog.Attr
}

// newZapBridge returns a zap logger writing to logger at min level and above.
// Messages listed in demote are logged at debug level.
func newZapBridge(logger *slog.Logger, min zapcore.Level, quiet *atomic.Bool, demote ...string) *zap.Logger {
	c := &slogCore{logger: logger, min: min, quiet: quiet, demote: map[string]bool{}}
	for _, m := range demote {
		c.demote[m] = true
	}
	return zap.New(c)
}

func (c *slogCore) Enabled(l zapcore.Level) bool { return l >= c.min }

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	clone := *c
	clone.attrs = append(append([]slog.Attr(nil), c.attrs...), fieldsToAttrs(fields)...)
	return &clone
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	level := slog.LevelInfo
	switch {
	case c.quiet != nil && c.quiet.Load(), c.demote[e.Message]:
		level = slog.LevelDebug
	case e.Level >= zapcore.ErrorLevel:
		level = slog.LevelError
	case e.Level == zapcore.WarnLevel:
		level = slog.LevelWarn
	case e.Level <= zapcore.DebugLevel:
		level = slog.LevelDebug
	}
	attrs := append(append([]slog.Attr(nil), c.attrs...), fieldsToAttrs(fields)...)
	if e.LoggerName != "" {
		attrs = append(attrs, slog.String("etcd_logger", e.LoggerName))
	}
	c.logger.LogAttrs(context.Background(), level, e.Message, attrs...)
	return nil
}

func (c *slogCore) Sync() error { return nil }

func fieldsToAttrs(fields []zapcore.Field) []slog.Attr {
	if len(fields) == 0 {
		return nil
	}
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range fields {
		f.AddTo(enc)
	}
	attrs := make([]slog.Attr, 0, len(enc.Fields))
	for k, v := range enc.Fields {
		attrs = append(attrs, slog.Any(k, v))
	}
	return attrs
}
