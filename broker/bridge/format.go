package bridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// format is how record keys and values travel in JSON bodies.
type format string

const (
	formatBinary format = "binary" // base64 strings
	formatJSON   format = "json"   // embedded JSON documents
	formatText   format = "text"   // plain strings
)

func parseFormat(s string) (format, error) {
	switch f := format(s); f {
	case formatBinary, formatJSON, formatText:
		return f, nil
	case "":
		return formatBinary, nil
	}
	return "", fmt.Errorf("unknown format %q (want binary, json or text)", s)
}

// mediaType is the content type of record bodies in format f.
func (f format) mediaType() string { return "application/vnd.kafka." + string(f) + ".v2+json" }

// formatOfContentType maps a produce request's Content-Type to a format. A
// missing Content-Type or plain application/json means embedded JSON.
func formatOfContentType(ct string) (format, error) {
	if ct == "" {
		return formatJSON, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", errorf(http.StatusUnsupportedMediaType, "bad Content-Type %q: %v", ct, err)
	}
	switch mt {
	case "application/json", formatJSON.mediaType():
		return formatJSON, nil
	case formatBinary.mediaType():
		return formatBinary, nil
	case formatText.mediaType():
		return formatText, nil
	}
	return "", errorf(http.StatusUnsupportedMediaType, "unsupported Content-Type %q (want %s, %s or %s)",
		mt, formatJSON.mediaType(), formatBinary.mediaType(), formatText.mediaType())
}

// checkAccept returns 406 if the Accept header asks only for record formats
// other than f.
func checkAccept(accept string, f format) error {
	if strings.TrimSpace(accept) == "" {
		return nil
	}
	var asked []string
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if !strings.HasPrefix(mt, "application/vnd.kafka.") || mt == f.mediaType() {
			return nil // a generic type (*/*, application/json) or ours
		}
		asked = append(asked, mt)
	}
	if len(asked) == 0 {
		return nil
	}
	return errorf(http.StatusNotAcceptable, "consumer format is %s (%s) but Accept asks for %s",
		f, f.mediaType(), strings.Join(asked, ", "))
}

// decodeData turns a key or value from a produce body into record bytes. An
// absent or null field is a nil slice (a null key, or a tombstone value).
func decodeData(f format, raw json.RawMessage) ([]byte, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	switch f {
	case formatJSON:
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case formatBinary:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("binary data must be a base64 string")
		}
		data, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("binary data is not valid base64: %w", err)
		}
		return data, nil
	default:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("text data must be a string")
		}
		return []byte(s), nil
	}
}

// encodeData renders record bytes for a records response. nil stays null. In
// JSON format, bytes that are not a JSON document are rendered as a string.
func encodeData(f format, data []byte) json.RawMessage {
	if data == nil {
		return nil
	}
	var v any
	switch f {
	case formatJSON:
		if json.Valid(data) {
			return json.RawMessage(data)
		}
		v = string(data)
	case formatBinary:
		v = base64.StdEncoding.EncodeToString(data)
	default:
		v = string(data)
	}
	out, _ := json.Marshal(v)
	return out
}
