// Package policy holds sysrec's own judgements about the Linux ABI, each
// with its sources: risk tiers of syscalls (TierOf) and of argument
// values (Arg.Tiers), which arguments' values differ in risk and the
// values safe as a class (Arg, LookupArg), families and domains of
// ordinary syscalls, the jobs that cross domains, the calls a process
// may need in any phase of its life (AnyPhase), and the directories no
// rule writes as a whole (KeptWhole, Shared, SystemTree).
//
// It imports only linuxabi, which holds the kernel's facts (numbers,
// constants, layouts, Landlock rights): what a policy judges is always
// something linuxabi names. It does not decide what a profile allows
// (see reducer) or what a rule means (see profiles).
package policy
