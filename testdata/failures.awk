# failures.awk reads `go test -v` output and prints, for each failed test,
# the output attributed to it (by the === RUN/CONT/NAME and --- FAIL
# markers), the last 120 lines of each, then every FAIL line of a package.
# make test prints this after the full log, so the reason for a failure
# is at the end of the output, next to the summary, however long the log.
function keep(name, line) {
	n[name]++
	buf[name, n[name]] = line
}
/^=== (RUN|CONT|NAME|PAUSE) / { cur = $3; next }
/^ *--- (PASS|FAIL|SKIP): / {
	cur = $3
	if ($2 == "FAIL:") {
		failed[++nf] = cur
	}
	next
}
/^(ok|FAIL|\?)[ \t]/ || /^(PASS|FAIL)$/ {
	if ($1 == "FAIL" && NF > 1) {
		pkgfail[++np] = $0
	}
	cur = ""
	next
}
{
	if (cur != "") {
		keep(cur, $0)
	} else {
		keep("(package)", $0)
	}
}
END {
	if (nf == 0 && np == 0) {
		exit
	}
	print "==== failures"
	for (i = 1; i <= nf; i++) {
		t = failed[i]
		print "---- " t
		from = n[t] > 120 ? n[t] - 119 : 1
		if (from > 1) {
			print "    [" from - 1 " earlier lines in the full log above]"
		}
		for (j = from; j <= n[t]; j++) {
			print buf[t, j]
		}
	}
	if (n["(package)"] > 0) {
		# a build or setup failure, a panic or message outside a test
		print "---- outside any test"
		from = n["(package)"] > 60 ? n["(package)"] - 59 : 1
		for (j = from; j <= n["(package)"]; j++) {
			print buf["(package)", j]
		}
	}
	for (i = 1; i <= np; i++) {
		print pkgfail[i]
	}
}
