package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ApiVersions: v0-4
//
// Behavior:
//   - Answers from the registry: every key registered with register().
//   - A request at a version newer than we support is answered (by conn.go,
//     before parsing) at v0 with UNSUPPORTED_VERSION and the supported
//     ranges, as Kafka does, so clients retry with a version we know.
//
// Version notes:
//   - v1: ThrottleMillis
//   - v3: flexible, client software name/version (KIP-511), tagged features
//   - v4: no schema change (KIP-896 baseline bump)
func init() { register(18, 0, 4, handleApiVersions) }

func handleApiVersions(b *Broker, c *conn, kreq kmsg.Request) reply {
	req := kreq.(*kmsg.ApiVersionsRequest)
	resp := req.ResponseKind().(*kmsg.ApiVersionsResponse)
	if req.Version >= 3 && (!validSoftware(req.ClientSoftwareName) || !validSoftware(req.ClientSoftwareVersion)) {
		resp.ErrorCode = kerr.InvalidRequest.Code
	}
	resp.ApiKeys = apiVersionKeys()
	return now(resp)
}

// unsupportedApiVersions is the v0 answer to an ApiVersions request at a
// version we do not know.
func unsupportedApiVersions() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(0)
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	resp.ApiKeys = apiVersionKeys()
	return resp
}

// validSoftware follows Kafka's pattern [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
func validSoftware(s string) bool {
	if s == "" {
		return true // older clients leave it empty; Kafka rejects, but only for v3+ and we stay lenient
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	if !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
