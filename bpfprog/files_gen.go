package bpfprog

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -type file_key -type pathbuf -type port_key -type file_op -type files_stat files files.bpf.c -- -I/usr/include/x86_64-linux-gnu
