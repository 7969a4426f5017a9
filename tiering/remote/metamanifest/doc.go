// Package metamanifest adapts the etcd-backed manifest (*metastore.Store)
// to remote.Manifest, so the broker can hand its metastore to a
// remote.Reader.
package metamanifest
