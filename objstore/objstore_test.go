package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/fs"
	"github.com/strata-io/strata/objstore/mem"
	"github.com/strata-io/strata/objstore/objstoretest"
)

func TestWithPrefixAcceptance(t *testing.T) {
	t.Run("mem", func(t *testing.T) { objstoretest.Run(t, objstore.WithPrefix(mem.New(), "tenant/a")) })
	t.Run("fs", func(t *testing.T) {
		b, err := fs.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		objstoretest.Run(t, objstore.WithPrefix(b, "/cluster-1/"))
	})
}

func TestWithPrefixIsolates(t *testing.T) {
	ctx := context.Background()
	base := mem.New()
	p := objstore.WithPrefix(base, "pre")
	if err := p.Upload(ctx, "x/y", bytes.NewReader([]byte("v"))); err != nil {
		t.Fatal(err)
	}
	if ok, _ := base.Exists(ctx, "pre/x/y"); !ok {
		t.Fatal("prefixed object not stored under the prefix")
	}
	if err := base.Upload(ctx, "other", bytes.NewReader([]byte("o"))); err != nil {
		t.Fatal(err)
	}
	if err := base.Upload(ctx, "prefix-lookalike", bytes.NewReader([]byte("o"))); err != nil {
		t.Fatal(err)
	}
	var names []string
	if err := p.Iter(ctx, "", func(n string) error { names = append(names, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"x/y"}) {
		t.Fatalf("prefixed Iter = %v", names)
	}
	if _, err := p.Get(ctx, "../other"); !errors.Is(err, objstore.ErrInvalidName) {
		t.Fatalf("prefix view allowed climbing out: %v", err)
	}
	if objstore.WithPrefix(base, "/") != objstore.Bucket(base) {
		t.Fatal("empty prefix should return the bucket itself")
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := objstore.Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Upload(ctx, "k", bytes.NewReader([]byte("v"))); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "k")); err != nil || string(data) != "v" {
		t.Fatalf("file:// bucket not at %s: %q %v", dir, data, err)
	}

	// Relative file URLs resolve against the working directory.
	t.Chdir(dir)
	rel, err := objstore.Open(ctx, "file://./data/objects")
	if err != nil {
		t.Fatal(err)
	}
	if err := rel.Upload(ctx, "r", bytes.NewReader([]byte("r"))); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "objects", "r")); err != nil {
		t.Fatalf("relative file:// URL: %v", err)
	}

	m, err := objstore.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Upload(ctx, "k", bytes.NewReader([]byte("mem"))); err != nil {
		t.Fatal(err)
	}
	rc, err := m.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "mem" {
		t.Fatalf("mem:// read %q", got)
	}

	for _, u := range []string{"", "/no/scheme", "ftp://x/y", "file://", "mem://x", "file:///a?b=c"} {
		if _, err := objstore.Open(ctx, u); err == nil {
			t.Errorf("Open(%q) succeeded", u)
		}
	}
}
