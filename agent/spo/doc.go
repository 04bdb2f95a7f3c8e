// Package spo turns sysrec profiles into security-profiles-operator
// SeccompProfile objects (v1, cluster-scoped) and back: the partial one
// container of one pod produced, labelled as SPO's own recorder labels
// partials so SPO never installs it, and the merged one of a workload,
// named NAMESPACE.RECORDING-CONTAINER. The sysrec profile rides in
// an annotation, so a merge keeps argument rules, per-entry runs and the
// Landlock sections the SPO spec cannot hold.
//
// It holds no merge policy (package merge) and talks to no API server.
package spo
