package spool

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

func readAll(t *testing.T, b *Body) string {
	t.Helper()
	data, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestSeekerUsedFromItsPosition(t *testing.T) {
	r := strings.NewReader("skip:payload")
	if _, err := r.Seek(5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	b, err := New(r)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Size != 7 {
		t.Fatalf("Size = %d, want 7", b.Size)
	}
	if got := readAll(t, b); got != "payload" {
		t.Fatalf("read %q", got)
	}
	if err := b.Rewind(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, b); got != "payload" {
		t.Fatalf("after Rewind read %q", got)
	}
}

func TestPlainReaderInMemoryAndSpilled(t *testing.T) {
	for _, n := range []int{0, 10, MemLimit, MemLimit + 1, MemLimit + 12345} {
		data := bytes.Repeat([]byte{'x'}, n)
		b, err := New(io.MultiReader(bytes.NewReader(data))) // hide the Seeker
		if err != nil {
			t.Fatal(err)
		}
		if b.Size != int64(n) {
			t.Errorf("n=%d: Size %d", n, b.Size)
		}
		if (b.file != nil) != (n > MemLimit) {
			t.Errorf("n=%d: spilled=%v", n, b.file != nil)
		}
		for range 2 {
			if got := readAll(t, b); len(got) != n {
				t.Errorf("n=%d: read %d bytes", n, len(got))
			}
			if err := b.Rewind(); err != nil {
				t.Fatal(err)
			}
		}
		var name string
		if b.file != nil {
			name = b.file.Name()
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if name != "" {
			if _, err := os.Stat(name); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("spool file %s left behind: %v", name, err)
			}
		}
	}
}

type brokenReader struct{ n int }

var errBroken = errors.New("broken")

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n > 0 {
		n := min(len(p), b.n)
		b.n -= n
		return n, nil
	}
	return 0, errBroken
}

func TestReadErrorReturned(t *testing.T) {
	for _, n := range []int{3, MemLimit + 5} {
		if _, err := New(&brokenReader{n: n}); !errors.Is(err, errBroken) {
			t.Errorf("n=%d: err = %v, want the reader's error", n, err)
		}
	}
}
