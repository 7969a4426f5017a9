package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// diskResult is one fsynced sequential write measurement.
type diskResult struct {
	BlockSize int64
	Bytes     int64
	Elapsed   time.Duration
}

// MBps is the measured throughput in MB/s.
func (r diskResult) MBps() float64 { return mbps(r.Bytes, r.Elapsed) }

// measureDisk writes up to total bytes sequentially into a fresh file in dir,
// in blocks of blockSize, calling fdatasync after every block, and stops early
// at maxDur. The file is removed afterwards.
func measureDisk(ctx context.Context, dir string, blockSize, total int64, maxDur time.Duration) (diskResult, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-*")
	if err != nil {
		return diskResult{}, fmt.Errorf("create probe file: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()

	block := make([]byte, blockSize)
	for i := range block {
		block[i] = byte(i*7 + i>>8) // not all zeros, in case the device compresses
	}
	res := diskResult{BlockSize: blockSize}
	start := time.Now()
	for res.Bytes < total {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("disk probe: %w", err)
		}
		if time.Since(start) > maxDur {
			break
		}
		n, err := f.Write(block)
		if err != nil {
			return res, fmt.Errorf("write probe block: %w", err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return res, fmt.Errorf("fdatasync probe: %w", err)
		}
		res.Bytes += int64(n)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// tcpResult is one loopback stream measurement.
type tcpResult struct {
	Bytes   int64
	Elapsed time.Duration
}

// MBps is the measured throughput in MB/s.
func (r tcpResult) MBps() float64 { return mbps(r.Bytes, r.Elapsed) }

// measureLoopbackTCP sends total bytes over one TCP connection on 127.0.0.1
// from a Go sender to a Go receiver and times it at the receiver, from accept
// to the last byte read. It stops early at maxDur.
func measureLoopbackTCP(ctx context.Context, total int64, maxDur time.Duration) (tcpResult, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return tcpResult{}, fmt.Errorf("listen loopback: %w", err)
	}
	defer ln.Close()

	ctx, cancel := context.WithTimeout(ctx, maxDur+5*time.Second)
	defer cancel()

	sendErr := make(chan error, 1)
	go func() {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			sendErr <- fmt.Errorf("dial loopback: %w", err)
			return
		}
		defer c.Close()
		buf := make([]byte, 1<<20)
		deadline := time.Now().Add(maxDur)
		for sent := int64(0); sent < total && time.Now().Before(deadline); {
			n, err := c.Write(buf[:min(int64(len(buf)), total-sent)])
			sent += int64(n)
			if err != nil {
				sendErr <- fmt.Errorf("send loopback: %w", err)
				return
			}
		}
		sendErr <- nil
	}()

	conn, err := ln.Accept()
	if err != nil {
		return tcpResult{}, fmt.Errorf("accept loopback: %w", err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	start := time.Now()
	buf := make([]byte, 1<<20)
	var res tcpResult
	for {
		n, err := conn.Read(buf)
		res.Bytes += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("receive loopback: %w", err)
		}
	}
	res.Elapsed = time.Since(start)
	if err := <-sendErr; err != nil {
		return res, err
	}
	return res, nil
}
