package main

import (
	"os"
	"testing"
)

func TestParseStatusField(t *testing.T) {
	status := []byte("Name:\tstrata\nVmPeak:\t  900000 kB\nVmHWM:\t  524288 kB\nVmRSS:\t  1024 kB\nThreads:\t9\n")
	got, err := parseStatusField(status, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	if got != 512<<20 {
		t.Fatalf("VmHWM = %d, want %d", got, 512<<20)
	}
	if _, err := parseStatusField(status, "VmSwap"); err == nil {
		t.Fatal("missing field: want error")
	}
	if _, err := parseStatusField(status, "Threads"); err == nil {
		t.Fatal("field without kB unit: want error")
	}
}

func TestPeakRSSOfSelf(t *testing.T) {
	// RSS first: the high-water mark read afterwards can only be higher.
	rss, err := procStatusBytes(os.Getpid(), "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	hwm, err := peakRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if hwm <= 0 || hwm < rss {
		t.Fatalf("VmHWM %d must be positive and >= VmRSS %d", hwm, rss)
	}
	if _, err := peakRSS(-1); err == nil {
		t.Fatal("bad pid: want error")
	}
}
