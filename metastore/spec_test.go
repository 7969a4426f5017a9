package metastore

import (
	"slices"
	"testing"
)

func TestParseSpec(t *testing.T) {
	good := []struct {
		in        string
		embedded  bool
		endpoints []string
		prefix    string
		maxOps    int
	}{
		{in: "embedded", embedded: true, prefix: "/strata/"},
		{in: "", embedded: true, prefix: "/strata/"},
		{in: "etcd://127.0.0.1:2379", endpoints: []string{"127.0.0.1:2379"}, prefix: "/strata/"},
		{in: "etcd://a:1,b:2/prod", endpoints: []string{"a:1", "b:2"}, prefix: "/prod/"},
		{in: "etcd://a,b:2/x/y/", endpoints: []string{"a:2379", "b:2"}, prefix: "/x/y/"},
		{in: "etcd://[::1]:2379/p", endpoints: []string{"[::1]:2379"}, prefix: "/p/"},
		{in: "etcd://h:1/p?max-txn-ops=1000", endpoints: []string{"h:1"}, prefix: "/p/", maxOps: 1000},
	}
	for _, tc := range good {
		sp, err := parseSpec(tc.in)
		if err != nil {
			t.Errorf("parseSpec(%q): %v", tc.in, err)
			continue
		}
		if sp.embedded != tc.embedded || !slices.Equal(sp.endpoints, tc.endpoints) || sp.prefix != tc.prefix || sp.maxTxnOps != tc.maxOps {
			t.Errorf("parseSpec(%q) = %+v, want embedded=%v endpoints=%v prefix=%q maxOps=%d",
				tc.in, sp, tc.embedded, tc.endpoints, tc.prefix, tc.maxOps)
		}
	}

	bad := []string{
		"embeded",
		"zk://h:2181",
		"http://h:2379",
		"etcd://",
		"etcd:///prefix",
		"etcd://h:notaport",
		"etcd://h:0",
		"etcd://h:70000",
		"etcd://a:1,,b:2",
		"etcd://:2379",
		"etcd://h:1?max-txn-ops=0",
		"etcd://h:1?max-txn-ops=x",
		"etcd://h:1?bogus=1",
	}
	for _, in := range bad {
		if sp, err := parseSpec(in); err == nil {
			t.Errorf("parseSpec(%q) = %+v, want error", in, sp)
		}
	}
}

func TestEscapeNameRoundTrip(t *testing.T) {
	for _, name := range []string{"", "plain-topic.v1_x", "a/b", "%2F", "grp with space", "ünïcode", "../..", "a%"} {
		esc := escapeName(name)
		for i := 0; i < len(esc); i++ {
			if esc[i] == '/' {
				t.Fatalf("escapeName(%q) = %q contains '/'", name, esc)
			}
		}
		got, err := unescapeName(esc)
		if err != nil || got != name {
			t.Errorf("unescapeName(escapeName(%q)) = %q, %v", name, got, err)
		}
	}
	if escapeName("orders.v2") != "orders.v2" {
		t.Errorf("legal topic names must stay readable, got %q", escapeName("orders.v2"))
	}
	for _, bad := range []string{"%", "%2", "%zz"} {
		if _, err := unescapeName(bad); err == nil {
			t.Errorf("unescapeName(%q) want error", bad)
		}
	}
}
