package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// contentTypeV2 is the media type of bodies without embedded records.
const contentTypeV2 = "application/vnd.kafka.v2+json"

// httpError is an error with the HTTP status it is answered with.
type httpError struct {
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *httpError) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

func errorf(code int, format string, args ...any) *httpError {
	return &httpError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// writeError answers with err's status, or 500 for errors that are not an
// *httpError.
func writeError(w http.ResponseWriter, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		he = &httpError{Code: http.StatusInternalServerError, Message: err.Error()}
	}
	writeJSON(w, he.Code, contentTypeV2, he)
}

func writeJSON(w http.ResponseWriter, code int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		body, _ = json.Marshal(httpError{Code: code, Message: "encoding response: " + err.Error()})
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)+1))
	w.WriteHeader(code)
	w.Write(append(body, '\n'))
}

// readBody reads the request body, refusing more than max bytes with 413.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, max)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes", max)
		}
		return nil, errorf(http.StatusBadRequest, "reading request body: %v", err)
	}
	return body, nil
}

// decodeJSON decodes body into v. Malformed JSON is a 400; well-formed JSON of
// the wrong shape (wrong types, unknown fields, trailing data) is a 422, as
// Strimzi's bridge answers.
func decodeJSON(body []byte, v any) error {
	if !json.Valid(body) {
		// Locate the syntax error for the message.
		var syn *json.SyntaxError
		var tmp any
		if err := json.Unmarshal(body, &tmp); errors.As(err, &syn) {
			return errorf(http.StatusBadRequest, "malformed JSON at byte %d: %v", syn.Offset, err)
		}
		return errorf(http.StatusBadRequest, "malformed JSON request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusUnprocessableEntity, "invalid request body: %v", err)
	}
	return nil
}

// readJSON reads and decodes the body; an empty body is allowed only if
// allowEmpty, leaving v untouched.
func (b *Bridge) readJSON(w http.ResponseWriter, r *http.Request, v any, allowEmpty bool) error {
	body, err := readBody(w, r, b.cfg.MaxRequestBytes)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return errorf(http.StatusUnprocessableEntity, "request body is empty")
	}
	return decodeJSON(body, v)
}
