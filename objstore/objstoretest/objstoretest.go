// Package objstoretest is the acceptance suite every objstore backend (and
// wrapper) must pass: Run(t, bucket). The suite works inside its own
// randomly named top-level directory, so the bucket need not be empty.
package objstoretest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/strata-io/strata/objstore"
)

// Run checks bkt against the objstore.Bucket contract.
func Run(t *testing.T, bkt objstore.Bucket) {
	t.Helper()
	var r [6]byte
	_, _ = rand.Read(r[:])
	root := "objstoretest-" + hex.EncodeToString(r[:])

	tests := []struct {
		name string
		fn   func(*testing.T, objstore.Bucket, string)
	}{
		{"Missing", testMissing},
		{"UploadGet", testUploadGet},
		{"Overwrite", testOverwrite},
		{"GetRange", testGetRange},
		{"UploadIfNotExists", testUploadIfNotExists},
		{"UploadIfNotExistsRace", testUploadIfNotExistsRace},
		{"FailedUploadLeavesNothing", testFailedUpload},
		{"ConcurrentOverwrites", testConcurrentOverwrites},
		{"Iter", testIter},
		{"Delete", testDelete},
		{"InvalidNames", testInvalidNames},
		{"Large", testLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, bkt, root+"/"+tc.name) })
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func upload(t *testing.T, b objstore.Bucket, name, content string) {
	t.Helper()
	if err := b.Upload(ctxFor(t), name, bytes.NewReader([]byte(content))); err != nil {
		t.Fatalf("Upload(%q): %v", name, err)
	}
}

func read(t *testing.T, rc io.ReadCloser, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func get(t *testing.T, b objstore.Bucket, name string) string {
	t.Helper()
	rc, err := b.Get(ctxFor(t), name)
	return read(t, rc, err)
}

func list(t *testing.T, b objstore.Bucket, prefix string) []string {
	t.Helper()
	var names []string
	if err := b.Iter(ctxFor(t), prefix, func(n string) error { names = append(names, n); return nil }); err != nil {
		t.Fatalf("Iter(%q): %v", prefix, err)
	}
	return names
}

func testMissing(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	name := dir + "/nope"
	if _, err := b.Get(ctx, name); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if _, err := b.GetRange(ctx, name, 0, 1); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("GetRange missing: %v", err)
	}
	if _, err := b.Attributes(ctx, name); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Attributes missing: %v", err)
	}
	if err := b.Delete(ctx, name); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Delete missing: %v", err)
	}
	if ok, err := b.Exists(ctx, name); ok || err != nil {
		t.Errorf("Exists missing = %v, %v", ok, err)
	}
	// A "directory" holding objects is not itself an object.
	upload(t, b, dir+"/sub/obj", "x")
	if ok, err := b.Exists(ctx, dir+"/sub"); ok || err != nil {
		t.Errorf("Exists(prefix of an object) = %v, %v", ok, err)
	}
	if _, err := b.Get(ctx, dir+"/sub"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get(prefix of an object): %v", err)
	}
	// Beneath an object is nothing.
	if _, err := b.Get(ctx, dir+"/sub/obj/deeper"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get(below an object): %v", err)
	}
	if got := list(t, b, dir+"/empty-prefix/"); len(got) != 0 {
		t.Errorf("Iter of an unused prefix = %v", got)
	}
}

func testUploadGet(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	before := time.Now().Add(-2 * time.Second)
	name := dir + "/a/b/c.seg"
	upload(t, b, name, "hello, object")
	if got := get(t, b, name); got != "hello, object" {
		t.Fatalf("Get = %q", got)
	}
	attrs, err := b.Attributes(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Size != int64(len("hello, object")) {
		t.Errorf("Attributes.Size = %d", attrs.Size)
	}
	if attrs.LastModified.Before(before) || attrs.LastModified.After(time.Now().Add(2*time.Second)) {
		t.Errorf("Attributes.LastModified = %v, not about now", attrs.LastModified)
	}
	if ok, err := b.Exists(ctx, name); !ok || err != nil {
		t.Errorf("Exists = %v, %v", ok, err)
	}
	// Empty objects are objects.
	upload(t, b, dir+"/empty", "")
	if got := get(t, b, dir+"/empty"); got != "" {
		t.Errorf("empty object read back %q", got)
	}
	if attrs, err := b.Attributes(ctx, dir+"/empty"); err != nil || attrs.Size != 0 {
		t.Errorf("empty Attributes = %+v, %v", attrs, err)
	}
}

func testOverwrite(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	name := dir + "/obj"
	upload(t, b, name, "first version, long")
	rc, err := b.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	upload(t, b, name, "second")
	if got := get(t, b, name); got != "second" {
		t.Fatalf("after overwrite Get = %q", got)
	}
	// A reader opened before the overwrite sees the old object whole.
	if got := read(t, rc, nil); got != "first version, long" {
		t.Fatalf("reader opened before overwrite read %q", got)
	}
	if attrs, _ := b.Attributes(ctx, name); attrs.Size != 6 {
		t.Fatalf("size after overwrite = %d", attrs.Size)
	}
}

func testGetRange(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	name := dir + "/digits"
	upload(t, b, name, "0123456789")
	cases := []struct {
		off, length int64
		want        string
	}{
		{0, 10, "0123456789"},
		{0, 3, "012"},
		{4, 2, "45"},
		{7, -1, "789"},
		{0, -1, "0123456789"},
		{8, 100, "89"},
		{9, 1, "9"},
		{3, 0, ""},
		{10, 5, ""},
		{25, -1, ""},
	}
	for _, c := range cases {
		rc, err := b.GetRange(ctx, name, c.off, c.length)
		if got := read(t, rc, err); got != c.want {
			t.Errorf("GetRange(%d, %d) = %q, want %q", c.off, c.length, got, c.want)
		}
	}
	for _, bad := range [][2]int64{{-1, 2}, {0, -2}} {
		if _, err := b.GetRange(ctx, name, bad[0], bad[1]); !errors.Is(err, objstore.ErrInvalidRange) {
			t.Errorf("GetRange(%d, %d) err = %v, want ErrInvalidRange", bad[0], bad[1], err)
		}
	}
}

func testUploadIfNotExists(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	name := dir + "/fence"
	if err := b.UploadIfNotExists(ctx, name, bytes.NewReader([]byte("winner"))); err != nil {
		t.Fatal(err)
	}
	err := b.UploadIfNotExists(ctx, name, bytes.NewReader([]byte("loser")))
	if !errors.Is(err, objstore.ErrPreconditionFailed) {
		t.Fatalf("second UploadIfNotExists err = %v, want ErrPreconditionFailed", err)
	}
	if got := get(t, b, name); got != "winner" {
		t.Fatalf("object = %q after a failed conditional upload", got)
	}
	if got := list(t, b, dir+"/"); !slices.Equal(got, []string{name}) {
		t.Fatalf("Iter = %v (leftovers from the failed upload?)", got)
	}
	// After a delete the name is free again.
	if err := b.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if err := b.UploadIfNotExists(ctx, name, bytes.NewReader([]byte("again"))); err != nil {
		t.Fatalf("UploadIfNotExists after delete: %v", err)
	}
}

func testUploadIfNotExistsRace(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	name := dir + "/contended"
	const n = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []int
	)
	for i := range n {
		wg.Go(func() {
			err := b.UploadIfNotExists(ctx, name, bytes.NewReader([]byte(fmt.Sprintf("writer-%d", i))))
			switch {
			case err == nil:
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			case !errors.Is(err, objstore.ErrPreconditionFailed):
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d writers won the conditional upload, want exactly 1", len(winners))
	}
	if got, want := get(t, b, name), fmt.Sprintf("writer-%d", winners[0]); got != want {
		t.Fatalf("object = %q, winner wrote %q", got, want)
	}
}

// failingReader yields some bytes, then an error.
type failingReader struct{ sent bool }

var errBody = errors.New("body broke")

func (f *failingReader) Read(p []byte) (int, error) {
	if !f.sent {
		f.sent = true
		return copy(p, "partial data"), nil
	}
	return 0, errBody
}

func testFailedUpload(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	if err := b.Upload(ctx, dir+"/new", &failingReader{}); err == nil {
		t.Fatal("Upload with a failing reader succeeded")
	}
	if ok, _ := b.Exists(ctx, dir+"/new"); ok {
		t.Fatal("a failed upload created the object")
	}
	if err := b.UploadIfNotExists(ctx, dir+"/new", &failingReader{}); err == nil {
		t.Fatal("UploadIfNotExists with a failing reader succeeded")
	}
	if ok, _ := b.Exists(ctx, dir+"/new"); ok {
		t.Fatal("a failed conditional upload created the object")
	}
	upload(t, b, dir+"/old", "keep me")
	if err := b.Upload(ctx, dir+"/old", &failingReader{}); err == nil {
		t.Fatal("overwrite with a failing reader succeeded")
	}
	if got := get(t, b, dir+"/old"); got != "keep me" {
		t.Fatalf("failed overwrite changed the object to %q", got)
	}
	if got := list(t, b, dir+"/"); !slices.Equal(got, []string{dir + "/old"}) {
		t.Fatalf("Iter after failed uploads = %v", got)
	}
}

func testConcurrentOverwrites(t *testing.T, b objstore.Bucket, dir string) {
	name := dir + "/hot"
	contents := make([]string, 6)
	for i := range contents {
		contents[i] = string(bytes.Repeat([]byte{byte('a' + i)}, 64<<10))
	}
	var wg sync.WaitGroup
	for _, c := range contents {
		wg.Go(func() {
			if err := b.Upload(ctxFor(t), name, bytes.NewReader([]byte(c))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := get(t, b, name); !slices.Contains(contents, got) {
		t.Fatalf("concurrent overwrites left a torn object (%d bytes)", len(got))
	}
}

func testIter(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	names := []string{
		dir + "/a/b",
		dir + "/a.b",
		dir + "/a/c/d/e",
		dir + "/ab",
		dir + "/z",
		dir + "/a-",
	}
	for _, n := range names {
		upload(t, b, n, n)
	}
	all := slices.Clone(names)
	slices.Sort(all)
	if got := list(t, b, dir+"/"); !slices.Equal(got, all) {
		t.Fatalf("Iter(dir/) = %v, want %v (sorted, recursive)", got, all)
	}
	if got := list(t, b, dir+"/a/"); !slices.Equal(got, []string{dir + "/a/b", dir + "/a/c/d/e"}) {
		t.Fatalf("Iter(a/) = %v", got)
	}
	wantA := []string{dir + "/a-", dir + "/a.b", dir + "/a/b", dir + "/a/c/d/e", dir + "/ab"}
	if got := list(t, b, dir+"/a"); !slices.Equal(got, wantA) {
		t.Fatalf("Iter(a) = %v, want %v", got, wantA)
	}
	if got := list(t, b, dir+"/a/c/d/e"); !slices.Equal(got, []string{dir + "/a/c/d/e"}) {
		t.Fatalf("Iter(full name) = %v", got)
	}
	// An error from fn stops the walk and comes back.
	stop := errors.New("stop")
	calls := 0
	err := b.Iter(ctx, dir+"/", func(string) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Iter with failing fn = %v after %d calls", err, calls)
	}
	// Whole-bucket iteration includes our objects.
	seen := 0
	if err := b.Iter(ctx, "", func(n string) error {
		if slices.Contains(names, n) {
			seen++
		}
		return nil
	}); err != nil || seen != len(names) {
		t.Fatalf("Iter(\"\") saw %d of our %d objects, err %v", seen, len(names), err)
	}
}

func testDelete(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	upload(t, b, dir+"/x/1", "1")
	upload(t, b, dir+"/x/2", "2")
	upload(t, b, dir+"/y/deep/3", "3")
	if err := b.Delete(ctx, dir+"/x/1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Exists(ctx, dir+"/x/1"); ok {
		t.Fatal("deleted object still exists")
	}
	if got := get(t, b, dir+"/x/2"); got != "2" {
		t.Fatalf("sibling damaged: %q", got)
	}
	if err := b.Delete(ctx, dir+"/y/deep/3"); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, dir+"/y/deep/3"); !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("second delete = %v", err)
	}
	if got := list(t, b, dir+"/"); !slices.Equal(got, []string{dir + "/x/2"}) {
		t.Fatalf("Iter after deletes = %v", got)
	}
	// The name can be reused, including as a "directory".
	upload(t, b, dir+"/y/deep/3/4", "4")
	if got := get(t, b, dir+"/y/deep/3/4"); got != "4" {
		t.Fatalf("reuse after delete: %q", got)
	}
}

func testInvalidNames(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	bad := []string{"", "/abs", "../escape", dir + "/../../escape", dir + "/a//b", dir + "/trailing/",
		dir + "/./x", ".", "..", dir + "/back\\slash", dir + "/nul\x00"}
	for _, name := range bad {
		if err := b.Upload(ctx, name, bytes.NewReader([]byte("x"))); !errors.Is(err, objstore.ErrInvalidName) {
			t.Errorf("Upload(%q) err = %v, want ErrInvalidName", name, err)
		}
		if err := b.UploadIfNotExists(ctx, name, bytes.NewReader([]byte("x"))); !errors.Is(err, objstore.ErrInvalidName) {
			t.Errorf("UploadIfNotExists(%q) err = %v, want ErrInvalidName", name, err)
		}
		if _, err := b.Get(ctx, name); !errors.Is(err, objstore.ErrInvalidName) {
			t.Errorf("Get(%q) err = %v, want ErrInvalidName", name, err)
		}
		if err := b.Delete(ctx, name); !errors.Is(err, objstore.ErrInvalidName) {
			t.Errorf("Delete(%q) err = %v, want ErrInvalidName", name, err)
		}
	}
}

func testLarge(t *testing.T, b objstore.Bucket, dir string) {
	ctx := ctxFor(t)
	data := make([]byte, 5<<20+123)
	_, _ = rand.Read(data)
	name := dir + "/big"
	if err := b.Upload(ctx, name, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	rc, err := b.Get(ctx, name)
	if got := read(t, rc, err); got != string(data) {
		t.Fatal("large object read back differently")
	}
	rc, err = b.GetRange(ctx, name, 3<<20, 1<<20)
	if got := read(t, rc, err); got != string(data[3<<20:4<<20]) {
		t.Fatal("large object range read back differently")
	}
}
