//go:build !linux

package pipeline

// KernelFeatures: sysrec records and enforces on Linux only.
func KernelFeatures() map[string]string { return nil }
