package upload

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestObjectBody(t *testing.T) {
	log := bytes.Repeat([]byte("0123456789"), 1000)
	trailer := []byte("indexes+footer")
	want := append(append([]byte{}, log...), trailer...)
	b := &objectBody{log: bytes.NewReader(log), logSize: int64(len(log)), trailer: trailer}
	for pass := 0; pass < 2; pass++ { // a retry rewinds and sends it again
		if _, err := b.Seek(0, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(io.LimitReader(struct{ io.Reader }{b}, 1<<20))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("pass %d: read %d bytes, err %v; want %d identical bytes", pass, len(got), err, len(want))
		}
	}
	if end, err := b.Seek(0, io.SeekEnd); err != nil || end != int64(len(want)) {
		t.Fatalf("Seek(0, end) = %d, %v; want %d", end, err, len(want))
	}
	if pos, err := b.Seek(-3, io.SeekCurrent); err != nil || pos != int64(len(want))-3 {
		t.Fatalf("Seek(-3, current) = %d, %v", pos, err)
	}
	if rest, _ := io.ReadAll(b); string(rest) != "ter" {
		t.Fatalf("tail %q, want %q", rest, "ter")
	}
	if _, err := b.Seek(-1, io.SeekStart); err == nil {
		t.Fatal("negative seek accepted")
	}
	// A segment file shorter than the segment is an error, not a short object.
	short := &objectBody{log: bytes.NewReader(log[:50]), logSize: int64(len(log)), trailer: trailer}
	if _, err := io.ReadAll(short); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short segment file: %v, want ErrUnexpectedEOF", err)
	}
}

func TestTrailerWriter(t *testing.T) {
	tw := &trailerWriter{skip: 5}
	for _, p := range []string{"ab", "cdefg", "hi"} {
		if n, err := tw.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	if string(tw.buf) != "fghi" {
		t.Fatalf("kept %q, want %q", tw.buf, "fghi")
	}
}
