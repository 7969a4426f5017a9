package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// dialTimeout bounds each TCP connect so an unreachable cluster fails fast.
const dialTimeout = 3 * time.Second

// checkReachable dials the seed brokers and returns an error unless at least
// one accepts a TCP connection. kgo would otherwise retry for its whole retry
// timeout before reporting a refused connection.
func checkReachable(ctx context.Context, seeds []string) error {
	d := net.Dialer{Timeout: dialTimeout}
	var errs []error
	for _, s := range seeds {
		conn, err := d.DialContext(ctx, "tcp", s)
		if err == nil {
			conn.Close()
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("cannot reach any broker in --brokers %s: %w", strings.Join(seeds, ","), errors.Join(errs...))
}

// newClient checks the seeds are reachable and returns a kgo client with
// bounded dial and retry times plus extra options.
func (c *common) newClient(ctx context.Context, extra ...kgo.Opt) (*kgo.Client, error) {
	seeds := c.seeds()
	if err := checkReachable(ctx, seeds); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID("strata-cli"),
		kgo.DialTimeout(dialTimeout),
		kgo.RetryTimeout(c.timeout),
	}
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka client: %w", err)
	}
	return cl, nil
}

// newAdmin returns an admin client and a context bounded by --timeout. Call
// the returned function when done.
func (c *common) newAdmin(ctx context.Context) (*kadm.Client, context.Context, func(), error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	cl, err := c.newClient(ctx)
	if err != nil {
		cancel()
		return nil, nil, nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(c.timeout / time.Millisecond))
	return adm, ctx, func() { cl.Close(); cancel() }, nil
}

// kafkaErr formats a Kafka error with the broker's optional message.
func kafkaErr(err error, msg string) error {
	if msg != "" && !strings.Contains(err.Error(), msg) {
		return fmt.Errorf("%w (%s)", err, msg)
	}
	return err
}

// requireTopics fails with a clear error if any topic does not exist.
func requireTopics(ctx context.Context, adm *kadm.Client, topics ...string) (kadm.TopicDetails, error) {
	td, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	for _, t := range topics {
		d, ok := td[t]
		if !ok {
			return nil, fmt.Errorf("topic %q does not exist", t)
		}
		if d.Err != nil {
			return nil, fmt.Errorf("topic %q: %w", t, d.Err)
		}
	}
	return td, nil
}
