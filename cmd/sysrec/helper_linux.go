package main

import "github.com/sysrec/sysrec/enforce"

func helperMain() { enforce.HelperMain() }
