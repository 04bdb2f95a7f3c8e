// Package node is the node agent: it learns the pods of its node from a
// PodSource (the API server's pods filtered by spec.nodeName, through a
// shared informer), records each opted-in pod's cgroup from before its
// containers start until they exit, and publishes one partial
// SeccompProfile per container (package spo), retrying until the API
// server takes it. Recording goes through the Recorder interface: the
// sysrec library today (one BPF object per recording), the shared host
// recorder when it lands.
//
// What a recording could not see is said, never hidden: a container
// that started before the recording attached, a recording cut short by
// the agent's own restart, losses in the kernel — each makes the
// partial incomplete (labelled, with the reason), and the merger leaves
// incomplete partials out.
package node
