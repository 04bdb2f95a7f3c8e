// Package recorder runs a target in a fresh cgroup v2 (or follows an
// existing cgroup or process), counts its syscalls in kernel with the
// bpfprog programs on the raw_syscalls tracepoints, and returns what it
// saw as a plain profiles.Recording. With file recording on, the same
// programs (bpfprog/files.bpf.c is part of them) also record the files
// and TCP ports the target touched, as Landlock rights.
//
// One recorder for the whole host. Each attached program costs every
// syscall of the host a dispatch, so the programs are loaded and
// attached once, one per tracepoint, and every concurrent recording
// shares them: a recording registers its cgroup (the targets map:
// cgroup id -> recording id) and its own maps, made at the sizes it
// asked for (--max-keys) and put at its id in the object's arrays of
// maps. A later recording attaches nothing; the per-call cost does not
// grow with the number of recordings (a task is found by walking its
// cgroup's ancestors, one hash look-up each, only when the per-CPU kept
// decision is stale). A recording's full map is its own loss; its maps
// are charged to its own process's memory cgroup and freed with it.
//
// Who owns the object: a small long-lived owner process (owner_linux.go,
// this same binary started with SYSREC_RECORDER_OWNER=1 by the first
// recording, in the cgroup2 root and a session of its own), not the first
// recording. The links are held by the owner's descriptors only, never
// pinned: when the owner dies, even by SIGKILL, the kernel detaches
// everything. A recording that dies leaves its connection (an abstract
// unix socket named by the object's version), and the owner removes its
// registration at once; the owner exits when the last recording leaves,
// and that recording waits for it, so nothing stays attached after the
// last one ends. Pinning by the first recording could not promise that:
// a pin outlives a SIGKILL of everyone. Only the owner's user (root)
// may connect, so nobody reads another user's recording.
//
// Nesting: a task counts for the innermost registered cgroup that is its
// own or contains it; a recording of a cgroup does not see what a
// recording of a cgroup inside it records (and a move into that inner
// cgroup counts as leaving the outer one). Two recordings of the same
// cgroup at once are refused.
//
// Files by concept: load_linux.go loads and attaches the shared object,
// owner_linux.go is the owner, register_linux.go registers a recording
// (a session), target_linux.go runs or follows the target,
// progress_linux.go reports progress, read_linux.go and files_linux.go
// read the maps. It does not turn recordings into allowlists (see
// reducer).
package recorder
