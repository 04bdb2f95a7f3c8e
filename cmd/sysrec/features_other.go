//go:build !linux

package main

// kernelFeatures: sysrec records and enforces on Linux only.
func kernelFeatures() map[string]string { return nil }
