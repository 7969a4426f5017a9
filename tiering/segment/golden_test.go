package segment

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.seg from fixedBatches")

const goldenPath = "testdata/golden.seg"

// TestGolden pins the object format: the object written from fixedBatches
// must equal testdata/golden.seg byte for byte, and the stored file must
// still read back with the expected footer. A format change needs a Version
// bump and `go test ./tiering/segment -run Golden -update`.
func TestGolden(t *testing.T) {
	obj, f := writeObject(t, buildSegment(100, fixedBatches(), 2), 6)
	if *update {
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, obj, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", goldenPath, len(obj))
	}
	golden, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(obj, golden) {
		i := 0
		for i < len(obj) && i < len(golden) && obj[i] == golden[i] {
			i++
		}
		t.Fatalf("written object (%d bytes) differs from %s (%d bytes) at byte %d", len(obj), goldenPath, len(golden), i)
	}
	got, err := VerifyObject(bg(), bytes.NewReader(golden), int64(len(golden)))
	if err != nil {
		t.Fatal(err)
	}
	want := Footer{
		Version: 1, LeaderEpoch: 6, BaseOffset: 100, LastOffset: 123, MaxTimestamp: 1_700_000_011_000,
		BatchCount: 12, RecordCount: 24,
		Log:          Section{Offset: 0, Size: 1314, CRC: 3997056496},
		OffsetIndex:  Section{Offset: 1314, Size: 40, CRC: 3607200351},
		TimeIndex:    Section{Offset: 1354, Size: 72, CRC: 194865237},
		LeaderEpochs: Section{Offset: 1426, Size: 24, CRC: 4091348914},
	}
	if got != want || f != want {
		t.Fatalf("golden footer = %+v\nwant %+v", got, want)
	}
	if string(golden[len(golden)-FooterSize:][:8]) != "STRATSEG" {
		t.Fatal("footer magic not at the start of the footer")
	}
}
