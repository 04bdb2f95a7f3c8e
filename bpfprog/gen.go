package bpfprog

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -type key -type argmask -type errkey sysrec sysrec.bpf.c -- -I/usr/include/x86_64-linux-gnu
