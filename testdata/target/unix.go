package main

import (
	"fmt"
	"os"
	"syscall"
)

// unixClient reaches the unix socket at addr (a path, or "@" and an
// abstract name): "connect" connects a stream socket and writes a line;
// "sendto" sends a datagram from an unconnected socket to the address.
// Raw calls: the net package would link the target against libc.
func unixClient(how, addr string) {
	sa := &syscall.SockaddrUnix{Name: addr}
	switch how {
	case "connect":
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			die(err)
		}
		if err := syscall.Connect(fd, sa); err != nil {
			die(err)
		}
		if _, err := syscall.Write(fd, []byte("hello\n")); err != nil {
			die(err)
		}
		syscall.Close(fd)
	case "sendto":
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			die(err)
		}
		if err := syscall.Sendto(fd, []byte("hello\n"), 0, sa); err != nil {
			die(err)
		}
		syscall.Close(fd)
	default:
		fmt.Fprintf(os.Stderr, "target: unix %q: want connect or sendto\n", how)
		os.Exit(2)
	}
	fmt.Println("sent")
}
