package fs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-io/strata/objstore"
	"github.com/strata-io/strata/objstore/fs"
	"github.com/strata-io/strata/objstore/objstoretest"
)

func TestAcceptance(t *testing.T) {
	b, err := fs.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	objstoretest.Run(t, b)
}

func TestLayoutAndCleanup(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	root := filepath.Join(parent, "objects")
	b, err := fs.New(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Upload(ctx, "t/0/00000000000000000000.seg", bytes.NewReader([]byte("seg"))); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "t", "0", "00000000000000000000.seg"))
	if err != nil || string(data) != "seg" {
		t.Fatalf("object not stored at its path: %q, %v", data, err)
	}
	// A failed conditional upload leaves no temp files behind.
	err = b.UploadIfNotExists(ctx, "t/0/00000000000000000000.seg", bytes.NewReader([]byte("x")))
	if !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "t", "0"))
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want just the object", len(entries))
	}
	// Temp-file names are reserved.
	if err := b.Upload(ctx, "t/.strata-tmp-1", bytes.NewReader(nil)); !errors.Is(err, objstore.ErrInvalidName) {
		t.Fatalf("reserved temp name accepted: %v", err)
	}
	// Deleting the last object prunes its empty directories, not the root.
	if err := b.Delete(ctx, "t/0/00000000000000000000.seg"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "t")); !os.IsNotExist(err) {
		t.Fatalf("empty directories left after delete: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("root removed: %v", err)
	}
	// Escapes never touch files outside the root.
	_ = b.Upload(ctx, "../escaped", bytes.NewReader([]byte("x")))
	if _, err := os.Stat(filepath.Join(parent, "escaped")); !os.IsNotExist(err) {
		t.Fatalf("upload escaped the root: %v", err)
	}
	var seen []string
	if err := b.Iter(ctx, "../", func(n string) error { seen = append(seen, n); return nil }); err != nil || len(seen) != 0 {
		t.Fatalf("Iter(../) = %v, %v", seen, err)
	}
}

func TestReopenSeesObjects(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b1, _ := fs.New(dir)
	if err := b1.Upload(ctx, "a/b", bytes.NewReader([]byte("persisted"))); err != nil {
		t.Fatal(err)
	}
	b1.Close()
	b2, err := fs.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := b2.Get(ctx, "a/b")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	if buf.String() != "persisted" {
		t.Fatalf("reopened bucket read %q", buf.String())
	}
}
