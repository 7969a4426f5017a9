// Package etcdtest runs a real etcd process for tests, optionally serving
// clients over TLS with a throw-away CA, server certificate and client
// certificate generated on the fly. It needs an etcd binary (Debian package
// etcd-server); without one, tests fail when the CI environment variable is
// set and skip otherwise.
package etcdtest
