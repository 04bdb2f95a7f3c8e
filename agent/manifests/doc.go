// Package manifests holds the tests of deploy/ (the agent's DaemonSet,
// RBAC and examples) and of the SeccompProfiles sysrec writes against
// security-profiles-operator's CRD schema. It has no code of its own.
package manifests
