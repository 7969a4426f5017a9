package metastore_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/strata-io/strata/metastore"
	"github.com/strata-io/strata/metastore/etcdtest"
	"github.com/strata-io/strata/test/harness"
)

// TestServeWithTLSEtcd starts `strata serve` against an etcd that serves
// clients over TLS and demands client certificates: the CA comes by flag,
// the client certificate and key by the environment variables the Helm
// chart sets. A produce and a consume must work, and the topic must be in
// that etcd under the given prefix.
func TestServeWithTLSEtcd(t *testing.T) {
	if harness.Target() == harness.TargetKfake {
		t.Skip("STRATA_TEST_TARGET=kfake: kfake has no metastore")
	}
	certs, err := etcdtest.WriteCerts(t.TempDir(), "cluster")
	if err != nil {
		t.Fatal(err)
	}
	etcd := etcdtest.Start(t, etcdtest.Options{TLS: &certs, ClientCertAuth: true})
	spec := "etcd://" + etcd.Endpoint + "/serve-tls"

	b := harness.StartT(t, harness.Options{
		Args: []string{"--metastore", spec, "--metastore-ca-file", certs.CAFile},
		Env: []string{
			"STRATA_METASTORE_CERT_FILE=" + certs.ClientCert,
			"STRATA_METASTORE_KEY_FILE=" + certs.ClientKey,
		},
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const topic = "tls-etcd"
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := []string{"one", "two", "three"}
	for _, v := range want {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %q: %v", v, err)
		}
	}
	var got []string
	for len(got) < len(want) {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %q before %v", got, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if !slices.Equal(got, want) {
		t.Fatalf("consumed %q, want %q", got, want)
	}

	meta, err := metastore.Open(ctx, spec, "", slog.New(slog.NewTextHandler(io.Discard, nil)),
		metastore.WithTLS(certs.CAFile, certs.ClientCert, certs.ClientKey))
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Close()
	topics, err := meta.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range topics {
		names = append(names, tp.Name)
	}
	if !slices.Contains(names, topic) {
		t.Fatalf("topics in the TLS etcd under %s: %q, want %q among them", spec, names, topic)
	}
}

// TestServeRejectsTLSWithEmbedded: TLS files make no sense for the embedded
// metastore; serve must refuse to start and say why.
func TestServeRejectsTLSWithEmbedded(t *testing.T) {
	if harness.Target() == harness.TargetKfake {
		t.Skip("STRATA_TEST_TARGET=kfake: kfake has no metastore")
	}
	certs, err := etcdtest.WriteCerts(t.TempDir(), "cluster")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), harness.ReadyTimeout)
	defer cancel()
	b, err := harness.Start(ctx, harness.Options{DataDir: t.TempDir(), Args: []string{"--metastore-ca-file", certs.CAFile}})
	if err == nil {
		_ = b.Kill()
		t.Fatal("strata serve started with --metastore-ca-file and the embedded metastore")
	}
	if !strings.Contains(err.Error(), "TLS options apply to an external etcd") {
		t.Fatalf("start error does not explain the refusal:\n%v", err)
	}
}
