// Package pipeline strings sysrec's packages together into the jobs its
// commands offer, so the CLI is flags plus one call:
//
//   - Record: check the options and the destination, record (recorder),
//     reduce (reducer), merge into an existing profile (profiles), write
//     atomically — and never drop a finished recording.
//   - Run: compile (emit) and run the target under the filter (enforce),
//     returning how it ended and what the kernel said about a kill.
//   - Check: run the target under a notifying filter and reduce the
//     violations into a profile fragment.
//
// It holds no policy of its own: what to allow is the reducer's, what a
// rule means is profiles', how a filter is built is emit's. Record, Run
// and Check are Linux only; WriteOutput builds everywhere.
package pipeline
