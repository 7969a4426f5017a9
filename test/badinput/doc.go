// Package badinput holds end-to-end tests that send malformed frames and
// invalid requests to a real strata broker process and assert that each
// gets Apache Kafka's answer (an exact error code, or a closed connection
// for a frame that cannot be understood) and that the broker keeps serving
// normal clients with its data intact afterwards. It also holds
// FuzzBrokerFrames, a fuzz target that feeds arbitrary frame bodies to one
// broker process and checks that it stays alive and usable.
//
// The package has no non-test code; run it with
//
//	go test ./test/badinput/
//	go test ./test/badinput/ -run '^$' -fuzz FuzzBrokerFrames -fuzztime 60s
package badinput
