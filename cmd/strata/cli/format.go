package cli

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultFormat prints the value of each record on its own line.
const defaultFormat = `%v\n`

// formatRecord appends r rendered with format to dst. Verbs:
// %k key, %v value, %p partition, %o offset, %t timestamp (Unix ms),
// %T topic, %h headers (k=v,k=v), %% a percent sign; escapes \n, \t, \\.
func formatRecord(dst []byte, format string, r *kgo.Record) []byte {
	for i := 0; i < len(format); i++ {
		ch := format[i]
		if i+1 < len(format) && (ch == '%' || ch == '\\') {
			next := format[i+1]
			i++
			if ch == '\\' {
				switch next {
				case 'n':
					dst = append(dst, '\n')
				case 't':
					dst = append(dst, '\t')
				case 'r':
					dst = append(dst, '\r')
				case '\\':
					dst = append(dst, '\\')
				default:
					dst = append(dst, '\\', next)
				}
				continue
			}
			switch next {
			case 'k':
				dst = append(dst, r.Key...)
			case 'v':
				dst = append(dst, r.Value...)
			case 'p':
				dst = strconv.AppendInt(dst, int64(r.Partition), 10)
			case 'o':
				dst = strconv.AppendInt(dst, r.Offset, 10)
			case 't':
				dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
			case 'T':
				dst = append(dst, r.Topic...)
			case 'h':
				for j, h := range r.Headers {
					if j > 0 {
						dst = append(dst, ',')
					}
					dst = append(dst, h.Key...)
					dst = append(dst, '=')
					dst = append(dst, h.Value...)
				}
			case '%':
				dst = append(dst, '%')
			default:
				dst = append(dst, '%', next)
			}
			continue
		}
		dst = append(dst, ch)
	}
	return dst
}

// jsonRecord is one consumed record in --output json (one object per line).
type jsonRecord struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Timestamp time.Time         `json:"timestamp"`
	Key       *string           `json:"key"`
	Value     *string           `json:"value"`
	Headers   map[string]string `json:"headers,omitempty"`
}

func appendJSONRecord(dst []byte, r *kgo.Record) ([]byte, error) {
	jr := jsonRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UTC()}
	if r.Key != nil {
		k := string(r.Key)
		jr.Key = &k
	}
	if r.Value != nil {
		v := string(r.Value)
		jr.Value = &v
	}
	if len(r.Headers) > 0 {
		jr.Headers = make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			jr.Headers[h.Key] = string(h.Value)
		}
	}
	b, err := json.Marshal(jr)
	if err != nil {
		return dst, err
	}
	dst = append(dst, b...)
	return append(dst, '\n'), nil
}
