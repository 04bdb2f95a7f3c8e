// Package apitest runs a real Kubernetes API server in the test process:
// k8s.io/apiextensions-apiserver's test server on an embedded etcd, with
// security-profiles-operator's SeccompProfile CRD installed. It serves
// CRDs and custom resources (no Pods, no Leases). Restart stops the API
// server and starts a new one on the same etcd, behind a client
// configuration that stays valid, as an API server upgrade does in a
// cluster.
package apitest
