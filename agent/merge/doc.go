// Package merge is the merge controller: it unions the complete partial
// SeccompProfiles of a workload (one per recorded container of each
// replica) into the workload's merged SeccompProfile with
// profiles.Merge, which is never narrower than any input.
//
// Every agent may run it: writes use optimistic concurrency (the merged
// object's resourceVersion; a conflict re-reads and merges again), and
// the merged object lists the partials already in it, so a partial is
// counted once whoever merges it and a crash between two writes loses
// nothing. The API server in the tests (and some clusters' RBAC for the
// agent) has no Leases, and a leader would be one more moving part to
// fail over.
//
// A published profile never narrows: each version is the previous one
// merged with the partials new to it, checked to allow everything the
// previous one allowed, and carries what it allows beyond it (the
// sysrec diff) in an annotation. Deleting a partial changes nothing;
// narrowing is deleting the merged profile.
package merge
