package bridgetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Media types of the bridge API.
const (
	JSON   = "application/vnd.kafka.json.v2+json"
	Binary = "application/vnd.kafka.binary.v2+json"
	Text   = "application/vnd.kafka.text.v2+json"
	V2     = "application/vnd.kafka.v2+json"
)

// Client makes requests to one bridge.
type Client struct {
	Base string // e.g. http://127.0.0.1:8080
	HTTP *http.Client
}

// NewClient returns a Client for the bridge at base.
func NewClient(base string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v, failing t on error.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Do sends a request. body is sent as is if it is a string or []byte, or
// streamed with no announced length if an io.Reader, JSON-encoded otherwise; nil sends no body. headers alternate name, value.
func (c *Client) Do(t testing.TB, method, path string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = io.MultiReader(b) // hides the length: sent chunked
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Expect sends a request and fails t unless the status is want. Error
// statuses must carry a JSON body {"error_code": want, "message": "..."}.
func (c *Client) Expect(t testing.TB, want int, method, path string, body any, headers ...string) Response {
	t.Helper()
	r := c.Do(t, method, path, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	if want >= 400 {
		if err := checkErrorBody(r, want); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return r
}

func checkErrorBody(r Response, want int) error {
	if ct := r.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
		return fmt.Errorf("error Content-Type %q is not JSON", ct)
	}
	var e struct {
		Code    *int    `json:"error_code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(r.Body, &e); err != nil {
		return fmt.Errorf("error body %q is not JSON: %v", r.Body, err)
	}
	if e.Code == nil || *e.Code != want {
		return fmt.Errorf("error body %s: error_code should be %d", r.Body, want)
	}
	if e.Message == nil || *e.Message == "" {
		return fmt.Errorf("error body %s has no message", r.Body)
	}
	return nil
}
