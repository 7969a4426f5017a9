package main

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestMeasureDiskWritesAndRemovesProbe(t *testing.T) {
	dir := t.TempDir()
	res, err := measureDisk(context.Background(), dir, 1<<20, 8<<20, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != 8<<20 || res.BlockSize != 1<<20 {
		t.Fatalf("wrote %d bytes in %d blocks, want 8 MiB in 1 MiB blocks", res.Bytes, res.BlockSize)
	}
	if res.Elapsed <= 0 || res.MBps() <= 0 {
		t.Fatalf("elapsed %v, %v MB/s: want positive", res.Elapsed, res.MBps())
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("probe file left behind: %v", ents)
	}
}

func TestMeasureDiskBadDir(t *testing.T) {
	if _, err := measureDisk(context.Background(), "/nonexistent/dir", 1<<20, 1<<20, time.Second); err == nil {
		t.Fatal("want error for a missing directory")
	}
}

func TestMeasureLoopbackTCP(t *testing.T) {
	res, err := measureLoopbackTCP(context.Background(), 64<<20+123, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res.Bytes != 64<<20+123 {
		t.Fatalf("received %d bytes, want %d", res.Bytes, 64<<20+123)
	}
	if res.MBps() <= 0 {
		t.Fatalf("MB/s = %v, want positive", res.MBps())
	}
}

func TestMeasureDiskCeilingsBothBlockSizes(t *testing.T) {
	d1, d16, err := measureDiskCeilings(context.Background(), t.TempDir(), 32<<20)
	if err != nil {
		t.Fatal(err)
	}
	if d1.BlockSize != 1<<20 || d1.Bytes != 32<<20 || d1.MBps() <= 0 {
		t.Errorf("1 MiB probe = %+v", d1)
	}
	if d16.BlockSize != 16<<20 || d16.Bytes != 32<<20 || d16.MBps() <= 0 {
		t.Errorf("16 MiB probe = %+v", d16)
	}
}
