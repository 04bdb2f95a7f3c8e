// Package ocitest gives tests real container engines and runtimes (Linux
// only: see ocitest_linux.go).
package ocitest
