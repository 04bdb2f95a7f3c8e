package bpfprog

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target bpfel -type key -type argmask -type errkey -type exe_name -type file_key -type pathbuf -type port_key -type file_op -type files_stat -type ident -type changed -type unix_key -type rec_state sysrec sysrec.bpf.c -- -I/usr/include/x86_64-linux-gnu
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target bpfel phase phase.bpf.c -- -I/usr/include/x86_64-linux-gnu
