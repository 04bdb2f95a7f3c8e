package manpage

import (
	"testing"
	"time"
)

func TestRoff(t *testing.T) {
	p := Page{
		Name: "sysrec-run", Short: "Run a command", Synopsis: "sysrec run --profile FILE",
		Long:    "run execs COMMAND.\n\n.dot starts a line; a \\ back-slash",
		Options: []Option{{Name: "profile", Usage: "profile FILE"}, {Name: "output", Shorthand: "o", Usage: "write to FILE"}},
		Example: "  sysrec run -- ./app",
		SeeAlso: []string{"sysrec-check"},
		Date:    time.Unix(0, 0),
	}
	want := `.TH SYSREC-RUN 1 "1970-01-01" sysrec
.SH NAME
sysrec\-run \- Run a command
.SH SYNOPSIS
.B sysrec run \-\-profile FILE
.SH DESCRIPTION
.PP
run execs COMMAND.
.PP
\&.dot starts a line; a \e back\-slash
.SH OPTIONS
.TP
.B \-\-profile
profile FILE
.TP
.B \-o, \-\-output
write to FILE
.SH EXAMPLES
.nf
  sysrec run \-\- ./app
.fi
.SH SEE ALSO
sysrec\-check(1)
`
	if got := p.Roff(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSourceDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "86400")
	if got := SourceDate(); !got.Equal(time.Unix(86400, 0)) {
		t.Errorf("SourceDate = %v", got)
	}
}
