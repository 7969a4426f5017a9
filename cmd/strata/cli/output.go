package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// table writes aligned columns.
type table struct {
	tw *tabwriter.Writer
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(toAny(header)...)
	return t
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (t *table) row(cols ...any) {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(t.tw, strings.Join(parts, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func sortStrings(s []string) { sort.Strings(s) }

func joinInt32(xs []int32) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return strings.Join(parts, ",")
}

// dash renders a negative (unknown) number as "-".
func dash(n int64) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// deleteResult is one name's outcome of a delete command.
type deleteResult struct {
	Name    string
	Deleted bool
	Error   string
}

// printDeletes writes delete results: JSON objects keyed by kind ("topic",
// "group") with deleted and error, or a "Deleted <kind> <name>." line for
// each success.
func (e *env) printDeletes(c *common, kind string, results []deleteResult) error {
	if c.output == "json" {
		out := make([]map[string]any, len(results))
		for i, r := range results {
			m := map[string]any{kind: r.Name, "deleted": r.Deleted}
			if r.Error != "" {
				m["error"] = r.Error
			}
			out[i] = m
		}
		return writeJSON(e.stdout, out)
	}
	for _, r := range results {
		if r.Deleted {
			fmt.Fprintf(e.stdout, "Deleted %s %s.\n", kind, r.Name)
		}
	}
	return nil
}
