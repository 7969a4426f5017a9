package objcore

import (
	"errors"
	"testing"
)

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "a/b/c.seg", "topic-id/0/00000000000000000000-1-uuid.seg", "..a", "a..", ".hidden"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "/a", "a/", "a//b", ".", "..", "a/./b", "a/../b", "../a", "a\\b", "a\x00"} {
		if err := ValidateName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalidName", bad, err)
		}
	}
}

func TestClampRange(t *testing.T) {
	cases := []struct{ size, off, length, start, end int64 }{
		{10, 0, -1, 0, 10},
		{10, 2, 3, 2, 5},
		{10, 8, 5, 8, 10},
		{10, 10, 1, 10, 10},
		{10, 15, -1, 10, 10},
		{0, 0, -1, 0, 0},
		{10, 0, 0, 0, 0},
	}
	for _, c := range cases {
		if s, e := ClampRange(c.size, c.off, c.length); s != c.start || e != c.end {
			t.Errorf("ClampRange(%d,%d,%d) = [%d,%d), want [%d,%d)", c.size, c.off, c.length, s, e, c.start, c.end)
		}
	}
	if err := ValidateRange(-1, 1); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("ValidateRange(-1,1) = %v", err)
	}
	if err := ValidateRange(0, -2); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("ValidateRange(0,-2) = %v", err)
	}
}
