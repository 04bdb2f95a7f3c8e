# Compile a sysrec profile's allow list with libseccomp (Debian
# python3-seccomp), for make bench: argv = profile.json out.bpf MODE,
# MODE default | tree (binary tree, SCMP_FLTATR_CTL_OPTIMIZE=2). An "in"
# rule becomes one rule per value, a subset rule MASKED_EQ(~allowed, 0);
# the default action is the profile's (kill or errno).
import json, sys, seccomp
p = json.load(open(sys.argv[1]))
mode = sys.argv[3] if len(sys.argv) > 3 else "default"
d = p["default_action"]
default = seccomp.KILL_PROCESS if d.startswith("kill") else seccomp.ERRNO(1)
f = seccomp.SyscallFilter(default)
if mode == "tree":
    f.set_attr(seccomp.Attr.CTL_OPTIMIZE, 2)
for s in p["syscalls"]:
    a = s.get("action", "allow")
    if a.startswith("errno"):
        action = seccomp.ERRNO(38 if "ENOSYS" in a else 1)
    elif a in ("allow", "log"):
        action = seccomp.ALLOW
    else:
        continue
    alts = [[]]
    for r in s.get("args", []):
        if r["op"] == "in":
            m = r.get("mask", 0)
            choices = [seccomp.Arg(r["index"], seccomp.MASKED_EQ, m, v) if m else seccomp.Arg(r["index"], seccomp.EQ, v) for v in r["values"]]
        elif r["op"] == "subset":
            choices = [seccomp.Arg(r["index"], seccomp.MASKED_EQ, ~r["mask"] & 0xffffffffffffffff, 0)]
        elif r.get("min", 0) == 0:
            choices = [seccomp.Arg(r["index"], seccomp.LE, r["max"])]
        elif r["max"] >= 0xffffffff:
            choices = [seccomp.Arg(r["index"], seccomp.GE, r["min"])]
        elif r["max"] - r["min"] < 256:
            choices = [seccomp.Arg(r["index"], seccomp.EQ, v) for v in range(r["min"], r["max"] + 1)]
        else:
            sys.exit("%s: range %d..%d has no libseccomp form" % (s["name"], r["min"], r["max"]))
        alts = [x + [c] for x in alts for c in choices]
    try:
        for args in alts:
            f.add_rule(action, s["name"], *args)
    except (RuntimeError, ValueError) as e:
        sys.exit("%s: %s" % (s["name"], e))
with open(sys.argv[2], "wb") as out:
    f.export_bpf(out)
