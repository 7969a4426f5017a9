// Package metrics tests the broker's Prometheus endpoint end to end: a
// real strata process with traffic and a lagging consumer group, scraped
// and parsed with the Prometheus text parser, and every metric checked
// against Prometheus' lint rules.
package metrics
