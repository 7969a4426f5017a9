package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ErrNoMetric is returned by Metric when the broker does not export the
// metric at all (as opposed to exporting it with value 0).
var ErrNoMetric = errors.New("harness: metric not exported")

// Metrics scrapes the broker's /metrics and returns the parsed families.
func (b *Broker) Metrics(ctx context.Context) (map[string]*dto.MetricFamily, error) {
	if b.HTTPAddr == "" {
		return nil, errors.New("harness: broker has no HTTP address")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.HTTPAddr+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("harness: metrics request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("harness: get %s/metrics: %w", b.HTTPAddr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("harness: get %s/metrics: %s", b.HTTPAddr, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("harness: parse %s/metrics: %w", b.HTTPAddr, err)
	}
	return fams, nil
}

// Metric sums the series of a counter, gauge or untyped metric whose labels
// include every pair in match (nil: all series). It returns ErrNoMetric
// when the family is absent.
func (b *Broker) Metric(ctx context.Context, name string, match map[string]string) (float64, error) {
	fams, err := b.Metrics(ctx)
	if err != nil {
		return 0, err
	}
	return SumMetric(fams, name, match)
}

// SumMetric is Metric on already scraped families.
func SumMetric(fams map[string]*dto.MetricFamily, name string, match map[string]string) (float64, error) {
	f := fams[name]
	if f == nil {
		return 0, fmt.Errorf("%w: %s", ErrNoMetric, name)
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if !labelsMatch(m, match) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.GetCounter().GetValue()
		case m.Gauge != nil:
			sum += m.GetGauge().GetValue()
		case m.Untyped != nil:
			sum += m.GetUntyped().GetValue()
		}
	}
	return sum, nil
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	for k, v := range match {
		found := false
		for _, l := range m.GetLabel() {
			if l.GetName() == k && l.GetValue() == v {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
