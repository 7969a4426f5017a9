package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func sizePrefixed(n int32, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	return append(out, body...)
}

func TestReadFrameReadsConsecutiveFrames(t *testing.T) {
	var stream []byte
	stream = append(stream, sizePrefixed(3, []byte("abc"))...)
	stream = append(stream, sizePrefixed(0, nil)...)
	stream = append(stream, sizePrefixed(5, []byte("hello"))...)
	r := bytes.NewReader(stream)

	var buf []byte
	for _, want := range []string{"abc", "", "hello"} {
		got, err := ReadFrame(r, 100, buf)
		if err != nil {
			t.Fatalf("ReadFrame: %v", err)
		}
		if string(got) != want {
			t.Fatalf("frame = %q, want %q", got, want)
		}
		buf = got[:0]
	}
	if _, err := ReadFrame(r, 100, buf); !errors.Is(err, io.EOF) {
		t.Fatalf("after last frame: err = %v, want io.EOF", err)
	}
}

func TestReadFrameReusesBuffer(t *testing.T) {
	buf := make([]byte, 0, 64)
	got, err := ReadFrame(bytes.NewReader(sizePrefixed(4, []byte("abcd"))), 100, buf)
	if err != nil {
		t.Fatal(err)
	}
	if &got[0] != &buf[:1][0] {
		t.Fatal("frame that fits in buf was not read into it")
	}
}

func TestReadFrameSizeLimit(t *testing.T) {
	// Exactly at the limit is accepted.
	body := bytes.Repeat([]byte{7}, 10)
	got, err := ReadFrame(bytes.NewReader(sizePrefixed(10, body)), 10, nil)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("frame at limit: %q, %v", got, err)
	}
	// One byte over is refused before the body is read.
	_, err = ReadFrame(bytes.NewReader(sizePrefixed(11, append(body, 7))), 10, nil)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("over limit: err = %v, want ErrFrameTooLarge", err)
	}
	if errors.Is(err, ErrMalformed) {
		t.Fatalf("too-large frame also reported as malformed: %v", err)
	}
	// A huge size prefix must not allocate: the body is absent.
	_, err = ReadFrame(bytes.NewReader(sizePrefixed(1<<31-1, nil)), 100<<20, nil)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("max int32 size: err = %v, want ErrFrameTooLarge", err)
	}
}

func TestReadFrameNegativeSize(t *testing.T) {
	for _, n := range []int32{-1, -2147483648} {
		_, err := ReadFrame(bytes.NewReader(sizePrefixed(n, []byte("xx"))), 100, nil)
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("size %d: err = %v, want ErrMalformed", n, err)
		}
		if errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("size %d: reported as too large: %v", n, err)
		}
	}
}

func TestReadFrameTruncated(t *testing.T) {
	cases := map[string][]byte{
		"partial size": {0, 0},
		"partial body": sizePrefixed(10, []byte("abc")),
		"no body":      sizePrefixed(1, nil),
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ReadFrame(bytes.NewReader(in), 100, nil)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
	if _, err := ReadFrame(bytes.NewReader(nil), 100, nil); !errors.Is(err, io.EOF) {
		t.Fatalf("empty stream: err = %v, want io.EOF", err)
	}
}
