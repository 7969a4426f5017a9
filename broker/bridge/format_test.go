package bridge

import (
	"encoding/json"
	"net/http"
	"testing"
)

func TestDataRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		f       format
		in      string // JSON in a produce body
		stored  string
		isNil   bool
		wantErr bool
	}{
		{f: formatJSON, in: `{ "a" : [1, 2] }`, stored: `{"a":[1,2]}`},
		{f: formatJSON, in: `"s"`, stored: `"s"`},
		{f: formatJSON, in: `null`, isNil: true},
		{f: formatJSON, in: ``, isNil: true},
		{f: formatBinary, in: `"AAEC"`, stored: "\x00\x01\x02"},
		{f: formatBinary, in: `"not base64!"`, wantErr: true},
		{f: formatBinary, in: `12`, wantErr: true},
		{f: formatText, in: `"héllo"`, stored: "héllo"},
		{f: formatText, in: `{}`, wantErr: true},
	} {
		got, err := decodeData(tc.f, json.RawMessage(tc.in))
		if (err != nil) != tc.wantErr {
			t.Errorf("%s %s: err %v, want error %v", tc.f, tc.in, err, tc.wantErr)
			continue
		}
		if tc.wantErr {
			continue
		}
		if (got == nil) != tc.isNil || string(got) != tc.stored {
			t.Errorf("%s %s: stored %q (nil %v), want %q (nil %v)", tc.f, tc.in, got, got == nil, tc.stored, tc.isNil)
			continue
		}
		// What is stored renders back to an equivalent body value.
		out := encodeData(tc.f, got)
		if tc.isNil {
			if out != nil {
				t.Errorf("%s %s: nil rendered as %s", tc.f, tc.in, out)
			}
			continue
		}
		back, err := decodeData(tc.f, out)
		if err != nil || string(back) != tc.stored {
			t.Errorf("%s %s: rendered %s decodes to %q, %v", tc.f, tc.in, out, back, err)
		}
	}
	// Non-JSON bytes consumed in JSON format become a JSON string.
	if got := string(encodeData(formatJSON, []byte("plain"))); got != `"plain"` {
		t.Errorf("non-JSON bytes rendered as %s", got)
	}
}

func TestContentTypesAndAccept(t *testing.T) {
	for ct, want := range map[string]format{
		"":                                   formatJSON,
		"application/json":                   formatJSON,
		"application/vnd.kafka.json.v2+json": formatJSON,
		"application/vnd.kafka.binary.v2+json; charset=utf-8": formatBinary,
		"application/vnd.kafka.text.v2+json":                  formatText,
	} {
		if got, err := formatOfContentType(ct); err != nil || got != want {
			t.Errorf("Content-Type %q: %v, %v; want %v", ct, got, err, want)
		}
	}
	for _, ct := range []string{"text/plain", "application/vnd.kafka.avro.v2+json", ";;"} {
		_, err := formatOfContentType(ct)
		if he, ok := err.(*httpError); !ok || he.Code != http.StatusUnsupportedMediaType {
			t.Errorf("Content-Type %q: %v, want 415", ct, err)
		}
	}
	for accept, ok := range map[string]bool{
		"":                                     true,
		"*/*":                                  true,
		"application/json":                     true,
		"application/vnd.kafka.binary.v2+json": true,
		"application/vnd.kafka.json.v2+json":   false,
		"application/vnd.kafka.json.v2+json, application/vnd.kafka.binary.v2+json": true,
	} {
		err := checkAccept(accept, formatBinary)
		if (err == nil) != ok {
			t.Errorf("Accept %q for a binary consumer: %v, want ok %v", accept, err, ok)
		}
	}
}
